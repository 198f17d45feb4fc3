/// BERT's pre-tokenizer: splits on whitespace (dropped) and makes every punctuation character a word
/// of its own.
///
/// Punctuation is BERT's definition: the ASCII ranges `!`–`/`, `:`–`@`, `[`–`` ` ``, `{`–`~` (which
/// include `$`, `+`, `<`, `^` …, symbols in Unicode's eyes) and every scalar of a Unicode P*
/// category.
///
/// ```swift
/// BertPreTokenizer().split("hello, world!")   // ["hello", ",", "world", "!"]
/// ```
public struct BertPreTokenizer: Sendable, Equatable {
    public init() {}

    public func split(_ text: String) -> [String] {
        split(Array(text.unicodeScalars)).map { String(String.UnicodeScalarView($0)) }
    }

    func split(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = 0
        for (i, s) in scalars.enumerated() {
            if s.isASCII ? (s == " " || (s.value >= 9 && s.value <= 13)) : s.properties.isWhitespace {
                if start < i { words.append(scalars[start ..< i]) }
                start = i + 1
            } else if Self.isPunctuation(s) {
                if start < i { words.append(scalars[start ..< i]) }
                words.append(scalars[i ... i])
                start = i + 1
            }
        }
        if start < scalars.count { words.append(scalars[start...]) }
        return words
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 33 ... 47, 58 ... 64, 91 ... 96, 123 ... 126: return true
        case 0 ..< 128: return false
        default: break
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}
