/// Strict UTF-8 validation (RFC 3629 / Unicode §3.9, table 3-7): rejects stray continuation
/// bytes, truncated sequences, overlong forms, UTF-16 surrogates and code points above U+10FFFF.
enum UTF8Validation {
    /// The first problem in `bytes`: its byte offset, line and a reason; nil when valid.
    static func firstError(in bytes: UnsafeBufferPointer<UInt8>) -> (offset: Int, line: Int, reason: String)? {
        var i = 0, line = 1
        let n = bytes.count
        func hex(_ b: UInt8) -> String { "0x" + String(b, radix: 16, uppercase: true) }
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                if b == 0x0A { line += 1 }
                i += 1
                continue
            }
            let need: Int, lo: UInt8, hi: UInt8       // continuation count and the valid range of the 2nd byte
            switch b {
            case 0xC2...0xDF: need = 1; lo = 0x80; hi = 0xBF
            case 0xE0: need = 2; lo = 0xA0; hi = 0xBF
            case 0xE1...0xEC, 0xEE...0xEF: need = 2; lo = 0x80; hi = 0xBF
            case 0xED: need = 2; lo = 0x80; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90; hi = 0xBF
            case 0xF1...0xF3: need = 3; lo = 0x80; hi = 0xBF
            case 0xF4: need = 3; lo = 0x80; hi = 0x8F
            case 0x80...0xBF: return (i, line, "invalid UTF-8: unexpected continuation byte \(hex(b))")
            case 0xC0, 0xC1: return (i, line, "invalid UTF-8: overlong encoding (lead byte \(hex(b)))")
            default: return (i, line, "invalid UTF-8: byte \(hex(b)) never appears in UTF-8")
            }
            guard i + need < n else { return (i, line, "invalid UTF-8: sequence starting \(hex(b)) is truncated by the end of the text") }
            let second = bytes[i + 1]
            guard second >= lo && second <= hi else {
                let why = second & 0xC0 != 0x80 ? "is truncated" :
                    (b == 0xED ? "encodes a UTF-16 surrogate" : (b == 0xF4 ? "is above U+10FFFF" : "is an overlong encoding"))
                return (i, line, "invalid UTF-8: sequence starting \(hex(b)) \(why)")
            }
            for k in 2..<(need + 1) where bytes[i + k] & 0xC0 != 0x80 {
                return (i, line, "invalid UTF-8: sequence starting \(hex(b)) is truncated")
            }
            i += need + 1
        }
        return nil
    }
}
