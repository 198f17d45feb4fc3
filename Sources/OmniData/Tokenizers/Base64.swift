/// Strict standard-alphabet base64 (RFC 4648 §4), as `.tiktoken` files use it.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var v = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { v[Int(c)] = UInt8(i) }
        return v
    }()

    /// The bytes `text` encodes, or nil when it is not canonical padded base64.
    ///
    /// A lone `=` or `==` is the empty string, as Python's lenient decoder reads it: Whisper's
    /// `multilingual.tiktoken` spells its unused last rank that way.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = text.count
        if (n == 1 || n == 2) && text.allSatisfy({ $0 == UInt8(ascii: "=") }) { return [] }
        guard n % 4 == 0 else { return nil }
        var padding = 0
        if n > 0 && text[n - 1] == UInt8(ascii: "=") { padding = text[n - 2] == UInt8(ascii: "=") ? 2 : 1 }
        var out: [UInt8] = []
        out.reserveCapacity(n / 4 * 3)
        var i = 0
        while i < n {
            var quad: UInt32 = 0
            for k in 0 ..< 4 {
                let c = text[i + k]
                let isPadding = i + 4 == n && k >= 4 - padding
                if isPadding {
                    guard c == UInt8(ascii: "=") else { return nil }
                    quad <<= 6
                } else {
                    let v = values[Int(c)]
                    guard v != 0xFF else { return nil }
                    quad = quad << 6 | UInt32(v)
                }
            }
            out.append(UInt8(truncatingIfNeeded: quad >> 16))
            if !(i + 4 == n && padding == 2) { out.append(UInt8(truncatingIfNeeded: quad >> 8)) }
            if !(i + 4 == n && padding >= 1) { out.append(UInt8(truncatingIfNeeded: quad)) }
            i += 4
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let rest = bytes.count - i
            let b0 = UInt32(bytes[i])
            let b1 = rest > 1 ? UInt32(bytes[i + 1]) : 0
            let b2 = rest > 2 ? UInt32(bytes[i + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(rest > 1 ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(rest > 2 ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
