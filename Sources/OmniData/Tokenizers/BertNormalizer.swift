import Foundation

/// BERT's text normalization, as Hugging Face's `BertNormalizer` does it, in this order:
///
/// 1. **clean text**: drop NUL, U+FFFD and control characters (general categories Cc, Cf, Co, except
///    tab, newline and carriage return) and turn every whitespace character into a space;
/// 2. **Chinese characters**: put a space on each side of every CJK ideograph, so each becomes a word;
/// 3. **strip accents** (by default when lowercasing): canonical decomposition (NFD), then drop
///    non-spacing marks (Mn);
/// 4. **lowercase**: each scalar's full lowercase mapping (no final-sigma rule, as in Hugging Face).
///
/// ```swift
/// BertNormalizer().normalize("Héllo\tWÖRLD 日本")   // "hello world  日  本 "
/// ```
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText: Bool
    public var handleChineseCharacters: Bool
    /// nil: strip accents when `lowercase` is set.
    public var stripAccents: Bool?
    public var lowercase: Bool

    public init(cleanText: Bool = true, handleChineseCharacters: Bool = true, stripAccents: Bool? = nil,
                lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseCharacters = handleChineseCharacters
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    public func normalize(_ text: String) -> String {
        String(String.UnicodeScalarView(normalize(Array(text.unicodeScalars))))
    }

    func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var scalars = input
        if cleanText {
            scalars = scalars.compactMap { s in
                if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { return nil }
                return Self.isWhitespace(s) ? " " : s
            }
        }
        if handleChineseCharacters && scalars.contains(where: Self.isChineseCharacter) {
            var spaced: [Unicode.Scalar] = []
            spaced.reserveCapacity(scalars.count + 16)
            for s in scalars {
                if Self.isChineseCharacter(s) { spaced += [" ", s, " "] } else { spaced.append(s) }
            }
            scalars = spaced
        }
        if stripAccents ?? lowercase, scalars.contains(where: { !$0.isASCII }) {
            let decomposed = String(String.UnicodeScalarView(scalars)).decomposedStringWithCanonicalMapping
            scalars = decomposed.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(scalars.count)
            for s in scalars {
                if s.isASCII {
                    lowered.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 32)! : s)
                } else {
                    lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        return scalars
    }

    /// Tab, newline and carriage return count as whitespace here, not as control characters.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII { return s == " " || (s.value >= 9 && s.value <= 13) }
        return s.properties.isWhitespace
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        if s.isASCII { return s.value < 0x20 || s.value == 0x7F }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse: return true
        default: return false
        }
    }

    /// The CJK blocks Hugging Face's BertNormalizer spaces out (its upper Extension range starts at
    /// U+2B920, not BERT's U+2B820).
    static func isChineseCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00 ... 0x9FFF, 0x3400 ... 0x4DBF, 0x20000 ... 0x2A6DF, 0x2A700 ... 0x2B73F,
             0x2B740 ... 0x2B81F, 0x2B920 ... 0x2CEAF, 0xF900 ... 0xFAFF, 0x2F800 ... 0x2FA1F:
            return true
        default:
            return false
        }
    }
}
