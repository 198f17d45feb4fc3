/// A bounds-checked little-endian cursor over bytes; every read past the end throws a
/// ``WeightsError`` naming the file, what was being read and the offset.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    /// Added to `position` in messages, when `bytes` is a slice of a larger file.
    let baseOffset: Int
    private(set) var position: Int = 0

    init(_ bytes: UnsafeRawBufferPointer, file: String, baseOffset: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.baseOffset = baseOffset
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position >= bytes.count }

    mutating func seek(to offset: Int) { position = offset }

    func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        if n < 0 || n > remaining {
            throw WeightsError(file: file, "truncated: \(what()) needs \(n) bytes at offset \(baseOffset + position), only \(remaining) left")
        }
    }

    mutating func skip(_ n: Int, _ what: @autoclosure () -> String) throws {
        try need(n, what())
        position += n
    }

    mutating func take(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try need(n, what())
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        defer { position += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 { try read(UInt8.self, what()) }
    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 { try read(UInt16.self, what()) }
    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try read(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try read(UInt64.self, what()) }
}
