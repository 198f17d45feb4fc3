import OmniTensor

/// Text augmentation by synonym replacement (the "SR" operation of Wei & Zou 2019, EDA, applied
/// word by word): each word that has synonyms in the lexicon and is not a stopword is replaced,
/// with probability `probability` (0.2 by default), by one of its synonyms chosen uniformly.
///
/// Words are maximal runs of letters and digits, with inner apostrophes and hyphens (`don't`,
/// `x-ray`) and inner `.`/`,` between digits (`0.5` is one word, never the digit `0`). Everything
/// else — spaces, punctuation, line breaks — is kept byte for byte. Case is preserved: a lowercase
/// word gets a lowercase synonym, a capitalised one a capitalised synonym, an all-caps one (two
/// letters or more) an all-caps synonym; words in mixed case (`iPhone`) are left alone.
///
/// Random draws, in this order, from the generator: for each eligible word from left to right one
/// `nextDouble()`; when it is below `probability`, one `nextInt(below: synonyms.count)` picks the
/// synonym. Ineligible words draw nothing.
///
/// ```swift
/// let sr = SynonymReplacement()                              // p = 0.2, built-in lexicon
/// sr.apply(to: "A large crack near the weld.", generator: Generator(seed: 1))
/// ```
public struct SynonymReplacement: Sendable {
    /// One replaced word.
    public struct Replacement: Sendable, Equatable {
        /// Where the word starts in the original text, counted in `Character`s.
        public let offset: Int
        public let original: String
        public let replacement: String
    }

    public let probability: Double
    public let lexicon: SynonymLexicon
    public let stopwords: Set<String>

    /// Replaces each eligible word with probability `probability` (0...1).
    public init(probability: Double = 0.2, lexicon: SynonymLexicon = .builtIn, stopwords: Set<String> = EnglishStopwords.words) {
        precondition((0...1).contains(probability), "SynonymReplacement: probability must be in 0...1, got \(probability)")
        self.probability = probability
        self.lexicon = lexicon
        self.stopwords = Set(stopwords.map { $0.lowercased() })
    }

    /// The augmented text.
    public func apply(to text: String, generator: Generator) -> String {
        augment(text, generator: generator).text
    }

    /// The augmented text and the replacements made.
    public func augment(_ text: String, generator: Generator) -> (text: String, replacements: [Replacement]) {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var replacements: [Replacement] = []
        for token in Self.tokens(text) {
            let piece = String(text[token.range])
            guard token.isWord, let synonyms = eligibleSynonyms(piece) else { out += piece; continue }
            if generator.nextDouble() < probability {
                let choice = synonyms[generator.nextInt(below: synonyms.count)]
                let cased = Self.applyCase(of: piece, to: choice)
                replacements.append(Replacement(offset: token.offset, original: piece, replacement: cased))
                out += cased
            } else {
                out += piece
            }
        }
        return (out, replacements)
    }

    /// The synonyms `word` may be replaced by, or nil when it is not eligible (stopword, no
    /// synonyms, mixed case).
    public func eligibleSynonyms(_ word: String) -> [String]? {
        let key = word.lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
        guard !stopwords.contains(key), Self.casePattern(of: word) != nil else { return nil }
        let synonyms = lexicon.synonyms(of: key)
        return synonyms.isEmpty ? nil : synonyms
    }

    enum CasePattern { case lower, capitalized, upper }

    static func casePattern(of word: String) -> CasePattern? {
        let letters = word.filter(\.isLetter)
        if letters.isEmpty || letters.allSatisfy(\.isLowercase) { return .lower }
        if letters.count >= 2 && letters.allSatisfy(\.isUppercase) { return .upper }
        if let first = letters.first, first.isUppercase, letters.dropFirst().allSatisfy(\.isLowercase) { return .capitalized }
        return nil
    }

    static func applyCase(of word: String, to synonym: String) -> String {
        switch casePattern(of: word) {
        case .upper: return synonym.uppercased()
        case .capitalized: return synonym.prefix(1).uppercased() + synonym.dropFirst()
        default: return synonym
        }
    }

    struct Token {
        let range: Range<String.Index>
        let offset: Int
        let isWord: Bool
    }

    /// Words and the gaps between them, covering `text` exactly.
    static func tokens(_ text: String) -> [Token] {
        var out: [Token] = []
        let chars = Array(text.indices)
        var i = 0, gapStart = 0
        func isCore(_ c: Character) -> Bool { c.isLetter || c.isNumber }
        while i < chars.count {
            let c = text[chars[i]]
            guard isCore(c) else { i += 1; continue }
            if gapStart < i { out.append(Token(range: chars[gapStart]..<chars[i], offset: gapStart, isWord: false)) }
            let start = i
            i += 1
            while i < chars.count {
                let d = text[chars[i]]
                if isCore(d) { i += 1; continue }
                // inner joiners: ' ’ - between letters/digits, . , between digits
                if i + 1 < chars.count {
                    let next = text[chars[i + 1]], prev = text[chars[i - 1]]
                    if (d == "'" || d == "\u{2019}" || d == "-") && isCore(next) && isCore(prev) { i += 2; continue }
                    if (d == "." || d == ",") && prev.isNumber && next.isNumber { i += 2; continue }
                }
                break
            }
            let end = i < chars.count ? chars[i] : text.endIndex
            out.append(Token(range: chars[start]..<end, offset: start, isWord: true))
            gapStart = i
        }
        if gapStart < chars.count { out.append(Token(range: chars[gapStart]..<text.endIndex, offset: gapStart, isWord: false)) }
        return out
    }
}
