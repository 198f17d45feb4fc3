import Foundation

/// BERT's WordPiece tokenizer, as a Hugging Face `tokenizer.json` describes it (all-MiniLM-L6-v2,
/// bert-base-uncased, …).
///
/// Encoding: added tokens (`[CLS]`, `[MASK]`, …) are found in the raw text first; the rest is
/// normalized (`BertNormalizer`), split into words (`BertPreTokenizer`), and each word is cut
/// greedily into the longest vocabulary pieces from the left, later pieces spelled with the
/// continuing-subword prefix (`##`). A word longer than `maxInputCharactersPerWord` scalars, or
/// one with a part no piece covers, becomes the unknown token. The template (`[CLS] … [SEP]`) is
/// added when asked.
///
/// ```swift
/// let bert = try WordPieceTokenizer(contentsOf: assets.appending(path: "minilm/tokenizer.json"))
/// bert.encode("A man is eating food.", addSpecialTokens: true)  // [101, 1037, 2158, 2003, 5983, 2833, 1012, 102]
/// bert.decode([101, 7592, 1010, 2088, 102], skipSpecialTokens: true)  // "hello, world"
/// ```
public struct WordPieceTokenizer: Tokenizer {
    /// nil when the file has no normalizer.
    public let normalizer: BertNormalizer?
    public let unknownToken: String
    public let continuingSubwordPrefix: String
    public let maxInputCharactersPerWord: Int
    public let addedTokens: [AddedToken]
    public let defaultEncodingOptions: EncodingOptions
    public let vocabularySize: Int

    private let vocabulary: ByteSequenceTable
    /// Tokens that start with the prefix, keyed without it.
    private let continuations: ByteSequenceTable
    private let unknownID: Int
    private let tokens: [String?]
    private let added: AddedVocabulary
    private let specialIDs: Set<Int>
    private let template: SpecialTokenTemplate
    /// Whether decoding removes the spaces the decoder puts before punctuation and contractions;
    /// nil when the file has no WordPiece decoder (tokens are then joined with spaces).
    private let decoderCleanup: Bool?

    /// Loads a `tokenizer.json` whose model is WordPiece.
    public init(contentsOf url: URL) throws {
        let root = try HuggingFaceTokenizer.read(url)
        try self.init(json: root)
    }

    /// A WordPiece tokenizer from a vocabulary, for models whose files are not `tokenizer.json`.
    ///
    /// `prefixTokens`/`suffixTokens` are the ids the template puts around a sequence
    /// (`[101]`/`[102]` for BERT). The vocabulary must contain `unknownToken`.
    public init(vocabulary: [String: Int], unknownToken: String = "[UNK]", continuingSubwordPrefix: String = "##",
                maxInputCharactersPerWord: Int = 100, normalizer: BertNormalizer? = BertNormalizer(),
                addedTokens: [AddedToken] = [], prefixTokens: [Int] = [], suffixTokens: [Int] = [],
                cleanUpDecoding: Bool = true, defaultEncodingOptions: EncodingOptions = EncodingOptions()) {
        precondition(vocabulary[unknownToken] != nil, "WordPieceTokenizer: the unknown token \(unknownToken) is not in the vocabulary")
        self.init(vocabulary: vocabulary.map { ($0.key, $0.value) }, unknownToken: unknownToken,
                  continuingSubwordPrefix: continuingSubwordPrefix, maxInputCharactersPerWord: maxInputCharactersPerWord,
                  normalizer: normalizer, addedTokens: addedTokens,
                  template: SpecialTokenTemplate(prefix: prefixTokens, suffix: suffixTokens),
                  decoderCleanup: cleanUpDecoding, defaultEncodingOptions: defaultEncodingOptions)
    }

    init(json root: JSONNode) throws {
        let model = try root.required("model")
        let type = try HuggingFaceTokenizer.modelType(model)
        guard type == "WordPiece" else { throw model.error("expected a WordPiece model, found \"\(type)\"") }
        let vocabulary = try HuggingFaceTokenizer.vocabulary(model)
        let unknownToken = try model.required("unk_token").string()
        guard vocabulary.contains(where: { $0.0 == unknownToken }) else {
            throw model.error("the unknown token \"\(unknownToken)\" is not in the vocabulary")
        }
        let prefix = try model.optional("continuing_subword_prefix")?.string() ?? "##"
        let maxCharacters = try model.optional("max_input_chars_per_word")?.int() ?? 100

        var normalizer: BertNormalizer?
        if let node = try root.optional("normalizer") {
            switch try node.type() {
            case "BertNormalizer":
                normalizer = BertNormalizer(
                    cleanText: try node.optionalBool("clean_text", default: true),
                    handleChineseCharacters: try node.optionalBool("handle_chinese_chars", default: true),
                    stripAccents: try node.optional("strip_accents")?.bool(),
                    lowercase: try node.optionalBool("lowercase", default: true))
            case let other:
                throw node.error("unsupported normalizer type \"\(other)\" (WordPiece supports BertNormalizer)")
            }
        }
        let preTokenizer = try root.required("pre_tokenizer")
        let preType = try preTokenizer.type()
        guard preType == "BertPreTokenizer" else {
            throw preTokenizer.error("unsupported pre_tokenizer type \"\(preType)\" (WordPiece supports BertPreTokenizer)")
        }
        var cleanup: Bool?
        if let decoder = try root.optional("decoder") {
            let decoderType = try decoder.type()
            guard decoderType == "WordPiece" else {
                throw decoder.error("unsupported decoder type \"\(decoderType)\" for a WordPiece model")
            }
            let decoderPrefix = try decoder.optional("prefix")?.string() ?? "##"
            guard decoderPrefix == prefix else {
                throw decoder.error("decoder prefix \"\(decoderPrefix)\" differs from the model's \"\(prefix)\"")
            }
            cleanup = try decoder.optionalBool("cleanup", default: true)
        }
        self.init(vocabulary: vocabulary, unknownToken: unknownToken, continuingSubwordPrefix: prefix,
                  maxInputCharactersPerWord: maxCharacters, normalizer: normalizer,
                  addedTokens: try HuggingFaceTokenizer.addedTokens(root, vocabularySize: vocabulary.count),
                  template: try HuggingFaceTokenizer.template(root), decoderCleanup: cleanup,
                  defaultEncodingOptions: try HuggingFaceTokenizer.encodingOptions(root))
    }

    private init(vocabulary: [(String, Int)], unknownToken: String, continuingSubwordPrefix: String,
                 maxInputCharactersPerWord: Int, normalizer: BertNormalizer?, addedTokens: [AddedToken],
                 template: SpecialTokenTemplate, decoderCleanup: Bool?, defaultEncodingOptions: EncodingOptions) {
        var table = ByteSequenceTable(minimumCapacity: vocabulary.count)
        var continuations = ByteSequenceTable(minimumCapacity: vocabulary.count / 4)
        let prefix = Array(continuingSubwordPrefix.utf8)
        var maxID = -1
        for (token, id) in vocabulary {
            let bytes = Array(token.utf8)
            table.insert(bytes, value: id)
            if bytes.starts(with: prefix) { continuations.insert(bytes[prefix.count...], value: id) }
            maxID = max(maxID, id)
        }
        for token in addedTokens { maxID = max(maxID, token.id) }
        var tokens = [String?](repeating: nil, count: maxID + 1)
        for (token, id) in vocabulary { tokens[id] = token }
        for token in addedTokens { tokens[token.id] = token.content }
        self.normalizer = normalizer
        self.unknownToken = unknownToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharactersPerWord = maxInputCharactersPerWord
        self.addedTokens = addedTokens
        self.defaultEncodingOptions = defaultEncodingOptions
        self.vocabularySize = maxID + 1
        self.vocabulary = table
        self.continuations = continuations
        self.unknownID = table.value(for: Array(unknownToken.utf8))!
        self.tokens = tokens
        self.added = AddedVocabulary(addedTokens) { normalizer?.normalize($0) ?? $0 }
        self.specialIDs = Set(addedTokens.filter(\.special).map(\.id))
        self.template = template
        self.decoderCleanup = decoderCleanup
    }

    // MARK: Encoding

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        for segment in added.split(Array(text.unicodeScalars), normalizedText: false) {
            switch segment {
            case .token(let id): ids.append(id)
            case .text(let raw):
                let normalized = normalizer?.normalize(raw) ?? raw
                for part in added.split(normalized, normalizedText: true) {
                    switch part {
                    case .token(let id): ids.append(id)
                    case .text(let scalars):
                        for word in BertPreTokenizer().split(scalars) { encodeWord(word, into: &ids) }
                    }
                }
            }
        }
        return addSpecialTokens ? template.apply(ids) : ids
    }

    public func addingSpecialTokens(to ids: [Int]) -> [Int] { template.apply(ids) }

    /// Greedy longest-match-first over the word's scalars.
    private func encodeWord(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int]) {
        if word.count > maxInputCharactersPerWord {
            ids.append(unknownID)
            return
        }
        var utf8: [UInt8] = []
        var offsets: [Int] = []  // offsets[k]: where scalar k starts in utf8
        for s in word {
            offsets.append(utf8.count)
            utf8.append(contentsOf: UTF8.encode(s)!)
        }
        offsets.append(utf8.count)
        let pieceStart = ids.count
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int?
            while start < end {
                let piece = utf8[offsets[start] ..< offsets[end]]
                found = start == 0 ? vocabulary.value(for: piece) : continuations.value(for: piece)
                if found != nil { break }
                end -= 1
            }
            guard let id = found else {
                ids.removeSubrange(pieceStart...)
                ids.append(unknownID)
                return
            }
            ids.append(id)
            start = end
        }
    }

    // MARK: Decoding

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        let pieces = ids.compactMap { id -> String? in
            guard id >= 0 && id < tokens.count, !(skipSpecialTokens && specialIDs.contains(id)) else { return nil }
            return tokens[id]
        }
        guard let cleanup = decoderCleanup else { return pieces.joined(separator: " ") }
        var text = ""
        for (i, piece) in pieces.enumerated() {
            var token = piece
            if i != 0 {
                if token.utf8.starts(with: continuingSubwordPrefix.utf8) {
                    token = String(decoding: token.utf8.dropFirst(continuingSubwordPrefix.utf8.count), as: UTF8.self)
                } else {
                    token = " " + token
                }
            }
            text += cleanup ? Self.cleanUp(token) : token
        }
        return text
    }

    /// Hugging Face's WordPiece decoder clean-up, applied to each token (with its leading space).
    private static func cleanUp(_ token: String) -> String {
        let replacements = [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                            (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]
        var s = token
        for (from, to) in replacements {
            s = s.replacingOccurrences(of: from, with: to, options: .literal)
        }
        return s
    }
}
