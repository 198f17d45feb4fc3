import CZlib

/// A read-only view of a zip archive held in a ``MappedFile`` (PyTorch checkpoints, `.npz`).
///
/// The central directory (zip64 included) is parsed and every field checked against the file
/// before use. Stored members are returned as slices of the mapping (no copy); deflated members
/// are inflated with zlib into a buffer of the declared size, after checking that the size is
/// reachable from the compressed size (deflate cannot exceed ~1032:1), so a lying directory
/// cannot force a large allocation. Both kinds are checked against their CRC-32.
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let crc: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    let file: MappedFile
    let entries: [Entry]
    /// Entry index by name (the first entry wins when a name repeats).
    private let index: [String: Int]
    /// Where the central directory starts; member data must lie before it.
    private let directoryOffset: Int

    var path: String { file.path }

    /// Whether `bytes` start like a zip archive (a local header, or the end record of an empty one).
    static func hasSignature(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4 else { return false }
        let sig = UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self))
        return sig == 0x0403_4B50 || sig == 0x0605_4B50
    }

    init(_ file: MappedFile) throws {
        self.file = file
        let bytes = file.bytes
        let path = file.path
        guard bytes.count >= 22 else {
            throw WeightsError(file: path, "zip: \(bytes.count) bytes is too small for an end-of-central-directory record")
        }
        // The end record is the last thing in the file, followed only by a comment of < 64 KiB.
        var eocd = -1
        var p = bytes.count - 22
        let lowest = Swift.max(0, bytes.count - 22 - 0xFFFF)
        while p >= lowest {
            if bytes[p] == 0x50, bytes[p + 1] == 0x4B, bytes[p + 2] == 0x05, bytes[p + 3] == 0x06 {
                let commentLength = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 20, as: UInt16.self)))
                if p + 22 + commentLength == bytes.count { eocd = p; break }
            }
            p -= 1
        }
        guard eocd >= 0 else { throw WeightsError(file: path, "zip: no end-of-central-directory record (truncated or not a zip archive)") }

        var r = ByteReader(bytes, file: path)
        r.seek(to: eocd + 4)
        let disk = try r.u16("zip end record"), cdDisk = try r.u16("zip end record")
        _ = try r.u16("zip end record")
        var count = Int(try r.u16("zip end record"))
        var cdSize = Int(try r.u32("zip end record"))
        var cdOffset = Int(try r.u32("zip end record"))
        guard disk == 0, cdDisk == 0 else { throw WeightsError(file: path, "zip: multi-disk archives are not supported") }

        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            // zip64: a locator just before the end record points at the zip64 end record.
            guard eocd >= 20 else { throw WeightsError(file: path, "zip: zip64 sizes without a zip64 locator") }
            r.seek(to: eocd - 20)
            guard try r.u32("zip64 locator") == 0x0706_4B50 else {
                throw WeightsError(file: path, "zip: zip64 sizes without a zip64 locator")
            }
            _ = try r.u32("zip64 locator")
            let recordOffset = try r.u64("zip64 locator")
            guard recordOffset <= UInt64(eocd - 20) else {
                throw WeightsError(file: path, "zip: zip64 end record offset \(recordOffset) lies outside the file")
            }
            r.seek(to: Int(recordOffset))
            guard try r.u32("zip64 end record") == 0x0606_4B50 else {
                throw WeightsError(file: path, "zip: bad zip64 end record signature at offset \(recordOffset)")
            }
            try r.skip(8 + 2 + 2 + 4 + 4, "zip64 end record")
            let count64 = try r.u64("zip64 end record")
            _ = try r.u64("zip64 end record")
            let size64 = try r.u64("zip64 end record"), offset64 = try r.u64("zip64 end record")
            guard count64 <= UInt64(bytes.count), size64 <= UInt64(bytes.count), offset64 <= UInt64(bytes.count) else {
                throw WeightsError(file: path, "zip: zip64 end record claims \(count64) entries, \(size64) bytes at \(offset64), beyond the \(bytes.count)-byte file")
            }
            count = Int(count64); cdSize = Int(size64); cdOffset = Int(offset64)
        }
        guard cdOffset + cdSize <= eocd else {
            throw WeightsError(file: path, "zip: central directory (\(cdSize) bytes at offset \(cdOffset)) runs past the end record at \(eocd)")
        }
        guard count <= cdSize / 46 else {
            throw WeightsError(file: path, "zip: \(count) entries cannot fit in a \(cdSize)-byte central directory")
        }
        directoryOffset = cdOffset

        var cd = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[cdOffset..<(cdOffset + cdSize)]), file: path, baseOffset: cdOffset)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let what = "zip central directory entry \(index)"
            guard try cd.u32(what) == 0x0201_4B50 else {
                throw WeightsError(file: path, "zip: bad signature for central directory entry \(index) at offset \(cd.baseOffset + cd.position - 4)")
            }
            try cd.skip(4, what)
            let flags = try cd.u16(what), method = try cd.u16(what)
            try cd.skip(4, what)
            let crc = try cd.u32(what)
            var csize = UInt64(try cd.u32(what)), usize = UInt64(try cd.u32(what))
            let nameLength = Int(try cd.u16(what)), extraLength = Int(try cd.u16(what)), commentLength = Int(try cd.u16(what))
            try cd.skip(2 + 2 + 4, what)
            var localOffset = UInt64(try cd.u32(what))
            let nameBytes = try cd.take(nameLength, what)
            let name = String(decoding: nameBytes, as: UTF8.self)
            var extra = ByteReader(try cd.take(extraLength, what), file: path)
            try cd.skip(commentLength, what)
            // zip64 extended information replaces exactly the fields saturated at 0xFFFFFFFF.
            while extra.remaining >= 4 {
                let id = try extra.u16(what), size = Int(try extra.u16(what))
                var field = ByteReader(try extra.take(size, "\(what) extra field"), file: path)
                guard id == 0x0001 else { continue }
                if usize == 0xFFFF_FFFF { usize = try field.u64("zip64 field of \"\(name)\"") }
                if csize == 0xFFFF_FFFF { csize = try field.u64("zip64 field of \"\(name)\"") }
                if localOffset == 0xFFFF_FFFF { localOffset = try field.u64("zip64 field of \"\(name)\"") }
            }
            guard csize <= UInt64(bytes.count), localOffset <= UInt64(cdOffset),
                  usize <= UInt64(Int.max / 2) else {
                throw WeightsError(file: path, "zip: entry \"\(name)\" claims \(csize) bytes at offset \(localOffset), outside the archive")
            }
            guard flags & 1 == 0 else { throw WeightsError(file: path, "zip: entry \"\(name)\" is encrypted") }
            entries.append(Entry(name: name, method: method, flags: flags, crc: crc, compressedSize: Int(csize),
                                 uncompressedSize: Int(usize), localHeaderOffset: Int(localOffset)))
        }
        self.entries = entries
        index = Dictionary(entries.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The member's uncompressed bytes and the object that owns them (the mapping for stored
    /// members, a fresh buffer for deflated ones). The bytes are valid only while `owner` is
    /// alive: keep it (`withExtendedLifetime`) for as long as they are read.
    func contents(of entry: Entry) throws -> (bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        let bytes = file.bytes
        var r = ByteReader(bytes, file: path)
        r.seek(to: entry.localHeaderOffset)
        let what = "zip local header of \"\(entry.name)\""
        guard try r.u32(what) == 0x0403_4B50 else {
            throw WeightsError(file: path, "zip: bad local header signature for \"\(entry.name)\" at offset \(entry.localHeaderOffset)")
        }
        try r.skip(22, what)
        let nameLength = Int(try r.u16(what)), extraLength = Int(try r.u16(what))
        let localName = try r.take(nameLength, what)
        guard localName.elementsEqual(entry.name.utf8) else {
            throw WeightsError(file: path, "zip: local header at offset \(entry.localHeaderOffset) names \"\(String(decoding: localName, as: UTF8.self))\", central directory says \"\(entry.name)\"")
        }
        try r.skip(extraLength, what)
        let start = r.position
        guard entry.compressedSize <= directoryOffset - start else {
            throw WeightsError(file: path, "zip: data of \"\(entry.name)\" (\(entry.compressedSize) bytes at offset \(start)) runs into the central directory at \(directoryOffset)")
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + entry.compressedSize)])
        let result: (bytes: UnsafeRawBufferPointer, owner: AnyObject)
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw WeightsError(file: path, "zip: stored entry \"\(entry.name)\" has compressed size \(entry.compressedSize) but uncompressed size \(entry.uncompressedSize)")
            }
            result = (raw, file)
        case 8:
            let (limit, overflow) = entry.compressedSize.multipliedReportingOverflow(by: 1032)
            guard overflow || entry.uncompressedSize <= limit + 1024 else {
                throw WeightsError(file: path, "zip: entry \"\(entry.name)\" claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed bytes, more than deflate can produce")
            }
            let out = OwnedBytes(count: entry.uncompressedSize)
            try inflate(raw, into: out, name: entry.name)
            result = (out.bytes, out)
        default:
            throw WeightsError(file: path, "zip: entry \"\(entry.name)\" uses compression method \(entry.method); only stored (0) and deflate (8) are supported")
        }
        let crc = ZipArchive.crc32(result.bytes)
        guard crc == entry.crc else {
            throw WeightsError(file: path, "zip: CRC-32 mismatch for \"\(entry.name)\" (data is corrupt)")
        }
        return result
    }

    private func inflate(_ input: UnsafeRawBufferPointer, into out: OwnedBytes, name: String) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw WeightsError(file: path, "zip: cannot initialise zlib for \"\(name)\"")
        }
        defer { inflateEnd(&stream) }
        let chunk = 1 << 30
        var inDone = 0, outDone = 0
        var status = Z_OK
        repeat {
            let inChunk = Swift.min(chunk, input.count - inDone), outChunk = Swift.min(chunk, out.count - outDone)
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + inDone })
            stream.avail_in = uInt(inChunk)
            stream.next_out = (out.pointer + outDone).assumingMemoryBound(to: UInt8.self)
            stream.avail_out = uInt(outChunk)
            status = CZlib.inflate(&stream, Z_NO_FLUSH)
            let consumed = inChunk - Int(stream.avail_in), produced = outChunk - Int(stream.avail_out)
            inDone += consumed
            outDone += produced
            if status == Z_STREAM_END { break }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                let detail = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw WeightsError(file: path, "zip: corrupt deflate data in \"\(name)\": \(detail)")
            }
            if consumed == 0 && produced == 0 {
                let reason = outDone == out.count ? "inflates to more than the declared \(out.count) bytes"
                                                  : "deflate data ends early (truncated)"
                throw WeightsError(file: path, "zip: entry \"\(name)\" \(reason)")
            }
        } while true
        guard outDone == out.count else {
            throw WeightsError(file: path, "zip: entry \"\(name)\" inflates to \(outDone) bytes, the directory says \(out.count)")
        }
    }

    /// The CRC-32 of `bytes` (zlib's), optionally continuing from `start`.
    static func crc32(_ bytes: UnsafeRawBufferPointer, start: UInt32 = 0) -> UInt32 {
        var crc = uLong(start)
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return start }
        var left = bytes.count
        while left > 0 {
            let n = Swift.min(left, 1 << 30)
            crc = CZlib.crc32(crc, p, uInt(n))
            p += n
            left -= n
        }
        return UInt32(crc)
    }
}
