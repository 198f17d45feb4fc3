/// Writes a zip archive of stored (uncompressed) members through an ``AtomicFileWriter``.
///
/// Used for `.npz`. Timestamps are fixed (1980-01-01) so equal inputs give identical files.
/// Archives past 4 GiB would need zip64 records, which this writer does not produce: it
/// refuses instead.
final class ZipWriter {
    private struct Record {
        let name: [UInt8]
        let crc: UInt32
        let size: Int
        let offset: Int
    }

    private let out: AtomicFileWriter
    private var records: [Record] = []

    init(path: String) throws {
        out = try AtomicFileWriter(path: path)
    }

    private func checkLimit(_ value: Int, _ what: String) throws {
        guard value < 0xFFFF_FFFF else {
            throw WeightsError(file: out.path, "zip: \(what) exceeds 4 GiB; zip64 output is not supported")
        }
    }

    /// Adds a member of `size` bytes with checksum `crc`, whose bytes `body` writes (exactly `size`).
    func addStored(name: String, size: Int, crc: UInt32, body: (AtomicFileWriter) throws -> Void) throws {
        let nameBytes = Array(name.utf8)
        try checkLimit(out.offset, "archive offset")
        try checkLimit(size, "member \"\(name)\"")
        guard nameBytes.count <= 0xFFFF else { throw WeightsError(file: out.path, "zip: member name is too long") }
        var h = ZipWriter.Header()
        h.u32(0x0403_4B50); h.u16(20); h.u16(0x0800); h.u16(0)  // UTF-8 names, stored
        h.u16(0); h.u16(0x0021)                                  // 1980-01-01 00:00
        h.u32(crc); h.u32(UInt32(size)); h.u32(UInt32(size))
        h.u16(UInt16(nameBytes.count)); h.u16(0)
        h.bytes += nameBytes
        let offset = out.offset
        try out.write(h.bytes)
        let before = out.offset
        try body(out)
        precondition(out.offset - before == size, "ZipWriter: member body wrote \(out.offset - before) bytes, declared \(size)")
        records.append(Record(name: nameBytes, crc: crc, size: size, offset: offset))
    }

    /// Writes the central directory and end record, and commits the file.
    func finish() throws {
        let cdOffset = out.offset
        try checkLimit(cdOffset, "archive offset")
        guard records.count < 0xFFFF else { throw WeightsError(file: out.path, "zip: too many members for a non-zip64 archive") }
        var h = ZipWriter.Header()
        for r in records {
            h.u32(0x0201_4B50); h.u16(20); h.u16(20); h.u16(0x0800); h.u16(0)
            h.u16(0); h.u16(0x0021)
            h.u32(r.crc); h.u32(UInt32(r.size)); h.u32(UInt32(r.size))
            h.u16(UInt16(r.name.count)); h.u16(0); h.u16(0); h.u16(0); h.u16(0); h.u32(0)
            h.u32(UInt32(r.offset))
            h.bytes += r.name
        }
        let cdSize = h.bytes.count
        try checkLimit(cdOffset + cdSize, "archive size")
        h.u32(0x0605_4B50); h.u16(0); h.u16(0)
        h.u16(UInt16(records.count)); h.u16(UInt16(records.count))
        h.u32(UInt32(cdSize)); h.u32(UInt32(cdOffset)); h.u16(0)
        try out.write(h.bytes)
        try out.commit()
    }

    /// Little-endian record builder.
    private struct Header {
        var bytes: [UInt8] = []
        mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
    }
}
