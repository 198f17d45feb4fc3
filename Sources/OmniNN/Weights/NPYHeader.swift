/// The dictionary literal in an `.npy` header, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
///
/// Parsed by a small recogniser for exactly this subset of Python literals (strings, booleans,
/// tuples of integers), never evaluated.
struct NPYHeader {
    var descr = ""
    var fortranOrder = false
    var shape: [Int] = []

    init(parsing text: String, file: String, what: String) throws {
        var p = Parser(chars: Array(text.unicodeScalars), file: file, what: what)
        var sawDescr = false, sawOrder = false, sawShape = false
        p.space()
        try p.expect("{")
        while true {
            p.space()
            if p.peek == "}" { p.i += 1; break }
            let key = try p.string()
            p.space()
            try p.expect(":")
            p.space()
            switch key {
            case "descr":
                guard p.peek == "'" || p.peek == "\"" else {
                    throw p.fail("descr is not a simple type string (structured arrays are not supported)")
                }
                descr = try p.string()
                sawDescr = true
            case "fortran_order":
                fortranOrder = try p.bool()
                sawOrder = true
            case "shape":
                shape = try p.intTuple()
                sawShape = true
            default:
                throw p.fail("unexpected key '\(key)'")
            }
            p.space()
            if p.peek == "," { p.i += 1; continue }
            p.space()
            if p.peek == "}" { p.i += 1; break }
            throw p.fail("expected ',' or '}'")
        }
        guard sawDescr, sawOrder, sawShape else { throw p.fail("header lacks one of descr, fortran_order, shape") }
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        let file: String
        let what: String
        var i = 0

        var peek: Unicode.Scalar? { i < chars.count ? chars[i] : nil }

        func fail(_ message: String) -> WeightsError {
            WeightsError(file: file, "\(what): bad header at character \(i): \(message)")
        }

        mutating func space() {
            while let c = peek, c == " " || c == "\n" || c == "\t" || c == "\r" { i += 1 }
        }

        mutating func expect(_ c: Unicode.Scalar) throws {
            guard peek == c else { throw fail("expected '\(c)'") }
            i += 1
        }

        mutating func string() throws -> String {
            guard let q = peek, q == "'" || q == "\"" else { throw fail("expected a quoted string") }
            i += 1
            var s = String.UnicodeScalarView()
            while let c = peek, c != q {
                guard c != "\\" else { throw fail("escapes are not supported in header strings") }
                s.append(c)
                i += 1
            }
            try expect(q)
            return String(s)
        }

        mutating func bool() throws -> Bool {
            for (word, value) in [("True", true), ("False", false)] where chars[i...].starts(with: word.unicodeScalars) {
                i += word.unicodeScalars.count
                return value
            }
            throw fail("expected True or False")
        }

        mutating func intTuple() throws -> [Int] {
            try expect("(")
            var values: [Int] = []
            while true {
                space()
                if peek == ")" { i += 1; return values }
                var digits = ""
                while let c = peek, ("0"..."9").contains(c) {
                    digits.unicodeScalars.append(c)
                    i += 1
                }
                guard !digits.isEmpty, digits.count <= 18, let v = Int(digits) else {
                    throw fail("expected a non-negative dimension")
                }
                if peek == "L" { i += 1 }  // Python 2 longs
                values.append(v)
                guard values.count <= TensorDecoding.maxRank else { throw fail("more than \(TensorDecoding.maxRank) dimensions") }
                space()
                if peek == "," { i += 1; continue }
                space()
                guard peek == ")" else { throw fail("expected ',' or ')' in shape") }
            }
        }
    }
}
