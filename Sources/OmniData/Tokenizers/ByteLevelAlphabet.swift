/// GPT-2's byte-to-unicode map: every byte gets a printable character so byte-level tokens can be
/// written as JSON strings (`tokenizer.json` vocabularies and merges use it; space is `Ġ`).
///
/// Printable Latin-1 bytes (`!`–`~`, `¡`–`¬`, `®`–`ÿ`) stand for themselves; the other 68 bytes, in
/// increasing order, become U+0100, U+0101, ….
enum ByteLevelAlphabet {
    /// The character of each byte.
    static let scalars: [Unicode.Scalar] = {
        var next: UInt32 = 256
        return (0 ..< 256).map { b -> Unicode.Scalar in
            let printable = (0x21 ... 0x7E).contains(b) || (0xA1 ... 0xAC).contains(b) || (0xAE ... 0xFF).contains(b)
            if printable { return Unicode.Scalar(UInt32(b))! }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }()

    /// The byte of each character, indexed by scalar value (-1: not a byte-level character).
    private static let bytes: [Int] = {
        var table = [Int](repeating: -1, count: 324)
        for (b, s) in scalars.enumerated() { table[Int(s.value)] = b }
        return table
    }()

    /// The byte `s` stands for, or nil when it is not one of the 256 characters.
    static func byte(of s: Unicode.Scalar) -> UInt8? {
        let v = Int(s.value)
        return v < bytes.count && bytes[v] >= 0 ? UInt8(bytes[v]) : nil
    }

    /// The raw bytes a byte-level token stands for, or nil when it has a character outside the map.
    static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byte(of: s) else { return nil }
            out.append(b)
        }
        return out
    }

    /// UTF-8 of the byte-level spelling of `raw` (the form vocabularies are keyed by).
    static func encodedUTF8(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count * 2)
        for b in raw { out.append(contentsOf: utf8[Int(b)]) }
        return out
    }

    private static let utf8: [[UInt8]] = scalars.map { Array(String(Character($0)).utf8) }
}
