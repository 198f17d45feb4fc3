/// Finds added tokens in text the way Hugging Face tokenizers do: leftmost-longest matches of the
/// tokens' content, compared scalar by scalar, extended over whitespace for `leftStrip`/`rightStrip`.
struct AddedVocabulary: Sendable {
    /// A stretch of input: ordinary text for the model, or an added token's id.
    enum Segment: Equatable {
        case text([Unicode.Scalar])
        case token(Int)
    }

    /// What matching needs of a token, without its strings (copying those in the scan loop costs).
    private struct Pattern {
        var scalars: [Unicode.Scalar]
        var id: Int
        var leftStrip: Bool
        var rightStrip: Bool
        var singleWord: Bool
    }

    /// Patterns longest first, and the scalars they can start with.
    private struct PatternSet {
        var patterns: [Pattern] = []
        var firstScalars: Set<Unicode.Scalar> = []
    }

    let tokens: [AddedToken]
    private let raw: PatternSet
    private let normalized: PatternSet

    /// `normalize` turns a normalized token's content into the form it has in normalized text.
    init(_ tokens: [AddedToken], normalize: ([Unicode.Scalar]) -> [Unicode.Scalar]) {
        self.tokens = tokens
        func entries(_ list: [AddedToken], _ form: ([Unicode.Scalar]) -> [Unicode.Scalar]) -> PatternSet {
            let patterns = list.map {
                Pattern(scalars: form(Array($0.content.unicodeScalars)), id: $0.id, leftStrip: $0.leftStrip,
                        rightStrip: $0.rightStrip, singleWord: $0.singleWord)
            }.filter { !$0.scalars.isEmpty }.sorted { $0.scalars.count > $1.scalars.count }
            return PatternSet(patterns: patterns, firstScalars: Set(patterns.map { $0.scalars[0] }))
        }
        raw = entries(tokens.filter { !$0.normalized }, { $0 })
        normalized = entries(tokens.filter { $0.normalized }, normalize)
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// `text` cut at the tokens that match the raw input (`normalizedText` false) or normalized text.
    func split(_ text: [Unicode.Scalar], normalizedText: Bool) -> [Segment] {
        let set = normalizedText ? normalized : raw
        if set.patterns.isEmpty { return text.isEmpty ? [] : [.text(text)] }
        var segments: [Segment] = []
        var textStart = 0, i = 0
        search: while i < text.count {
            guard set.firstScalars.contains(text[i]) else {
                i += 1
                continue
            }
            for token in set.patterns where text[i] == token.scalars[0] && i + token.scalars.count <= text.count {
                let scalars = token.scalars
                var matches = true
                for k in 1 ..< scalars.count where text[i + k] != scalars[k] { matches = false; break }
                guard matches else { continue }
                var start = i, end = i + scalars.count
                if token.singleWord {
                    let wordBefore = start > 0 && Self.isWordScalar(text[start - 1])
                    let wordAfter = end < text.count && Self.isWordScalar(text[end])
                    if wordBefore || wordAfter { continue }
                }
                if token.leftStrip { while start > textStart && text[start - 1].properties.isWhitespace { start -= 1 } }
                if token.rightStrip { while end < text.count && text[end].properties.isWhitespace { end += 1 } }
                if textStart < start { segments.append(.text(Array(text[textStart ..< start]))) }
                segments.append(.token(token.id))
                i = end
                textStart = end
                continue search
            }
            i += 1
        }
        if textStart < text.count { segments.append(.text(Array(text[textStart...]))) }
        return segments
    }

    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil
    }
}
