import Foundation

/// Byte-level BPE as a Hugging Face `tokenizer.json` describes it (GPT-2, RoBERTa, and files whose
/// pre-tokenizer splits with cl100k's pattern before the byte-level step).
///
/// Encoding: added tokens are found in the text first; each remaining stretch gets a leading space
/// when `addPrefixSpace` is set, is split with `pattern` (GPT-2's regex by default), and each piece's
/// bytes — spelled with GPT-2's byte-to-unicode map (`Ġ` for space) in the vocabulary — are merged
/// by the rank of the merge rule, lowest first, leftmost on ties.
///
/// ```swift
/// let gpt2 = try ByteLevelBPETokenizer(contentsOf: url)
/// let ids = gpt2.encode("Hello world", addSpecialTokens: false)
/// gpt2.decode(ids, skipSpecialTokens: false)   // "Hello world"
/// ```
public struct ByteLevelBPETokenizer: Tokenizer {
    /// Whether a space is put before text that does not start with one (so the first word is
    /// spelled like the others).
    public let addPrefixSpace: Bool
    /// How text is split before merging; nil when the file splits nothing (`use_regex: false`).
    public let pattern: SplitPattern?
    public let addedTokens: [AddedToken]
    public let defaultEncodingOptions: EncodingOptions
    public let vocabularySize: Int

    /// UTF-8 of each token's byte-level spelling → id.
    private let vocabulary: ByteSequenceTable
    /// Id of each single byte's token, -1 when the vocabulary lacks it.
    private let byteIDs: [Int]
    /// (left id << 32 | right id) → merge rank and merged id.
    private let merges: [UInt64: MergeRule]
    private let unknownID: Int?
    private let fuseUnknown: Bool
    /// Whether a piece that is itself a token skips merging (`ignore_merges`).
    private let ignoreMerges: Bool
    /// Bytes each id decodes to (the byte-level map undone, or the UTF-8 of tokens outside it).
    private let tokenBytes: [[UInt8]?]
    private let tokenText: [String?]
    private let decodesByteLevel: Bool
    private let added: AddedVocabulary
    private let specialIDs: Set<Int>
    private let template: SpecialTokenTemplate

    struct MergeRule: Sendable {
        var rank: Int
        var id: Int
    }

    /// Loads a `tokenizer.json` whose model is BPE with a byte-level pre-tokenizer.
    public init(contentsOf url: URL) throws {
        try self.init(json: try HuggingFaceTokenizer.read(url))
    }

    init(json root: JSONNode) throws {
        let model = try root.required("model")
        let type = try HuggingFaceTokenizer.modelType(model)
        guard type == "BPE" else { throw model.error("expected a BPE model, found \"\(type)\"") }
        if let node = try root.optional("normalizer") {
            throw node.error("unsupported normalizer type \"\(try node.type())\" (byte-level BPE supports none)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let node = try model.optional(key), try !node.string().isEmpty {
                throw node.error("unsupported for byte-level BPE")
            }
        }
        if let dropout = try model.optional("dropout"), (dropout.value as? NSNumber)?.doubleValue ?? 1 != 0 {
            throw dropout.error("BPE dropout is not supported (encoding must be deterministic)")
        }
        if try model.optionalBool("byte_fallback", default: false) {
            throw model.error("byte_fallback is not supported for byte-level BPE")
        }
        let (addPrefixSpace, pattern) = try Self.preTokenizer(try root.required("pre_tokenizer"))
        var decodesByteLevel = false
        if let decoder = try root.optional("decoder") {
            let decoderType = try decoder.type()
            guard decoderType == "ByteLevel" else {
                throw decoder.error("unsupported decoder type \"\(decoderType)\" for byte-level BPE")
            }
            decodesByteLevel = true
        }

        let vocabularyList = try HuggingFaceTokenizer.vocabulary(model)
        var vocabulary = ByteSequenceTable(minimumCapacity: vocabularyList.count)
        var maxID = -1
        for (token, id) in vocabularyList {
            vocabulary.insert(Array(token.utf8), value: id)
            maxID = max(maxID, id)
        }
        let addedTokens = try HuggingFaceTokenizer.addedTokens(root, vocabularySize: vocabularyList.count)
        for token in addedTokens { maxID = max(maxID, token.id) }
        var tokenText = [String?](repeating: nil, count: maxID + 1)
        for (token, id) in vocabularyList { tokenText[id] = token }
        for token in addedTokens { tokenText[token.id] = token.content }
        let tokenBytes = tokenText.map { $0.map { ByteLevelAlphabet.bytes(of: $0) ?? Array($0.utf8) } }
        let byteIDs = (0 ..< 256).map { b in
            vocabulary.value(for: Array(String(Character(ByteLevelAlphabet.scalars[b])).utf8)) ?? -1
        }

        let mergesNode = try model.required("merges")
        var merges: [UInt64: MergeRule] = [:]
        let mergeList = try mergesNode.array()
        merges.reserveCapacity(mergeList.count)
        for (rank, node) in mergeList.enumerated() {
            let parts: [String]
            if let line = node.value as? String {
                parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else {
                parts = try node.array().map { try $0.string() }
            }
            guard parts.count == 2 else { throw node.error("a merge must have two parts, found \(parts.count)") }
            guard let left = vocabulary.value(for: Array(parts[0].utf8)),
                  let right = vocabulary.value(for: Array(parts[1].utf8)) else {
                throw node.error("merge \"\(parts[0]) \(parts[1])\" uses a token that is not in the vocabulary")
            }
            guard let id = vocabulary.value(for: Array((parts[0] + parts[1]).utf8)) else {
                throw node.error("merge \"\(parts[0]) \(parts[1])\" makes \"\(parts[0] + parts[1])\", which is not in the vocabulary")
            }
            let key = UInt64(left) << 32 | UInt64(right)
            if merges[key] == nil { merges[key] = MergeRule(rank: rank, id: id) }
        }

        var unknownID: Int?
        if let unk = try model.optional("unk_token")?.string() {
            guard let id = vocabulary.value(for: Array(unk.utf8)) ?? addedTokens.first(where: { $0.content == unk })?.id else {
                throw model.error("the unknown token \"\(unk)\" is not in the vocabulary")
            }
            unknownID = id
        }
        self.addPrefixSpace = addPrefixSpace
        self.pattern = pattern
        self.addedTokens = addedTokens
        self.defaultEncodingOptions = try HuggingFaceTokenizer.encodingOptions(root)
        self.vocabularySize = maxID + 1
        self.vocabulary = vocabulary
        self.byteIDs = byteIDs
        self.merges = merges
        self.unknownID = unknownID
        self.fuseUnknown = try model.optionalBool("fuse_unk", default: false)
        self.ignoreMerges = try model.optionalBool("ignore_merges", default: false)
        self.tokenBytes = tokenBytes
        self.tokenText = tokenText
        self.decodesByteLevel = decodesByteLevel
        self.added = AddedVocabulary(addedTokens) { $0 }
        self.specialIDs = Set(addedTokens.filter(\.special).map(\.id))
        self.template = try HuggingFaceTokenizer.template(root)
    }

    /// `ByteLevel`, or `Sequence [Split(known pattern, Isolated), ByteLevel(use_regex: false)]`.
    private static func preTokenizer(_ node: JSONNode) throws -> (addPrefixSpace: Bool, pattern: SplitPattern?) {
        switch try node.type() {
        case "ByteLevel":
            let useRegex = try node.optionalBool("use_regex", default: true)
            return (try node.optionalBool("add_prefix_space", default: true), useRegex ? .gpt2 : nil)
        case "Sequence":
            let steps = try node.required("pretokenizers").array()
            guard steps.count == 2, try steps[0].type() == "Split", try steps[1].type() == "ByteLevel" else {
                throw node.error("unsupported pre_tokenizer sequence (supported: Split with GPT-2's or cl100k's pattern, then ByteLevel)")
            }
            let split = steps[0]
            let regex = try split.required("pattern").required("Regex").string()
            guard let pattern = SplitPattern(regex: regex) else {
                throw split.error("unsupported split pattern \(regex) (supported: GPT-2's and cl100k's)")
            }
            let behavior = try split.optional("behavior")?.string() ?? "Isolated"
            guard behavior == "Isolated", try !split.optionalBool("invert", default: false) else {
                throw split.error("unsupported split behavior \"\(behavior)\" (supported: Isolated, not inverted)")
            }
            guard try !steps[1].optionalBool("use_regex", default: true) else {
                throw steps[1].error("a ByteLevel step after Split must have use_regex false")
            }
            return (try steps[1].optionalBool("add_prefix_space", default: true), pattern)
        case let other:
            throw node.error("unsupported pre_tokenizer type \"\(other)\" (byte-level BPE supports ByteLevel)")
        }
    }

    // MARK: Encoding

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        var starts: [Int] = [], parts: [Int] = []
        for segment in added.split(Array(text.unicodeScalars), normalizedText: false) {
            guard case .text(let raw) = segment else {
                if case .token(let id) = segment { ids.append(id) }
                continue
            }
            for part in added.split(raw, normalizedText: true) {
                switch part {
                case .token(let id): ids.append(id)
                case .text(let scalars):
                    var text = String(String.UnicodeScalarView(scalars))
                    if addPrefixSpace && scalars.first != " " { text = " " + text }
                    text.withUTF8 { utf8 in
                        if let pattern {
                            pattern.forEachPiece(utf8) { encodePiece(UnsafeBufferPointer(rebasing: utf8[$0]), &ids, &starts, &parts) }
                        } else {
                            encodePiece(utf8, &ids, &starts, &parts)
                        }
                    }
                }
            }
        }
        return addSpecialTokens ? template.apply(ids) : ids
    }

    public func addingSpecialTokens(to ids: [Int]) -> [Int] { template.apply(ids) }

    private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, _ ids: inout [Int], _ starts: inout [Int],
                             _ parts: inout [Int]) {
        if piece.isEmpty { return }
        if ignoreMerges, let id = vocabulary.value(for: ByteLevelAlphabet.encodedUTF8(piece)) {
            ids.append(id)
            return
        }
        starts.removeAll(keepingCapacity: true)
        parts.removeAll(keepingCapacity: true)
        for (k, b) in piece.enumerated() {
            let id = byteIDs[Int(b)]
            if id >= 0 {
                starts.append(k); parts.append(id)
            } else if let unknownID, !(fuseUnknown && parts.last == unknownID) {
                starts.append(k); parts.append(unknownID)
            }
        }
        starts.append(piece.count)
        BytePairMerge.merge(piece, starts: &starts, ids: &parts, MergeLookup(merges: merges))
        ids.append(contentsOf: parts)
    }

    private struct MergeLookup: PairRanking {
        let merges: [UInt64: MergeRule]
        @inline(__always)
        func merge(_ left: Int, _ right: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> (rank: Int, id: Int)? {
            merges[UInt64(left) << 32 | UInt64(right)].map { ($0.rank, $0.id) }
        }
    }

    // MARK: Decoding

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        let kept = ids.filter { $0 >= 0 && $0 < tokenText.count && tokenText[$0] != nil && !(skipSpecialTokens && specialIDs.contains($0)) }
        guard decodesByteLevel else { return kept.map { tokenText[$0]! }.joined(separator: " ") }
        var bytes: [UInt8] = []
        for id in kept { bytes.append(contentsOf: tokenBytes[id]!) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
