import Foundation

/// Loads Hugging Face `tokenizer.json` files.
///
/// Supported: WordPiece models with `BertNormalizer` and `BertPreTokenizer` (→ `WordPieceTokenizer`)
/// and BPE models with a byte-level pre-tokenizer (→ `ByteLevelBPETokenizer`); post-processors
/// `TemplateProcessing`, `BertProcessing`, `RobertaProcessing`, `ByteLevel` and `Sequence` of these;
/// `added_tokens`; `truncation` and `padding`, which become the tokenizer's
/// `defaultEncodingOptions`. Anything else throws a `TokenizerError` naming the file, the field and
/// the kind found.
///
/// Limits: only single-sequence templates are used (no sentence pairs); truncation `stride` only
/// shapes overflowing windows, which are not produced. JSON object keys are Swift strings, so two
/// vocabulary entries that are canonically equivalent Unicode (`é` and `e` + U+0301) would collapse.
///
/// ```swift
/// let tokenizer = try HuggingFaceTokenizer.load(contentsOf: url)
/// let batch = tokenizer.encodeBatch(["first text", "second"])   // the file's padding and truncation
/// ```
public enum HuggingFaceTokenizer {
    /// The tokenizer `url` describes.
    public static func load(contentsOf url: URL) throws -> any Tokenizer {
        let root = try read(url)
        let model = try root.required("model")
        switch try modelType(model) {
        case "WordPiece": return try WordPieceTokenizer(json: root)
        case "BPE": return try ByteLevelBPETokenizer(json: root)
        case let other: throw (try model.optional("type") ?? model).error("unsupported model type \"\(other)\" (supported: WordPiece, BPE)")
        }
    }

    static func read(_ url: URL) throws -> JSONNode {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        let node = try JSONNode.parse(data, file: url.path)
        _ = try node.object()
        return node
    }

    /// The model's `type`; old files leave it out, and the fields tell.
    static func modelType(_ model: JSONNode) throws -> String {
        if let type = try model.optional("type") { return try type.string() }
        if try model.optional("merges") != nil { return "BPE" }
        if try model.optional("max_input_chars_per_word") != nil { return "WordPiece" }
        throw model.error("missing field \"type\"")
    }

    /// `model.vocab` as (token, id) pairs.
    static func vocabulary(_ model: JSONNode) throws -> [(String, Int)] {
        let vocab = try model.required("vocab")
        let object = try vocab.object()
        guard !object.isEmpty else { throw vocab.error("empty vocabulary") }
        var list: [(String, Int)] = []
        list.reserveCapacity(object.count)
        for (token, value) in object {
            guard let n = value as? NSNumber, let id = Int(exactly: n.doubleValue), id >= 0 else {
                throw vocab.error("the id of \"\(token)\" is not a non-negative integer")
            }
            guard id < idLimit(vocabularySize: object.count) else {
                throw vocab.error("the id \(id) of \"\(token)\" is far beyond the \(object.count) entries")
            }
            list.append((token, id))
        }
        return list
    }

    /// Ids are dense in real files; this bound keeps a corrupt id from sizing id-indexed tables.
    static func idLimit(vocabularySize: Int) -> Int { 2 * vocabularySize + 65536 }

    static func addedTokens(_ root: JSONNode, vocabularySize: Int) throws -> [AddedToken] {
        guard let list = try root.optional("added_tokens") else { return [] }
        return try list.array().map { node in
            let idNode = try node.required("id")
            let id = try idNode.int()
            guard id >= 0 && id < idLimit(vocabularySize: vocabularySize) else {
                throw idNode.error("id \(id) is out of range for a vocabulary of \(vocabularySize) entries")
            }
            return AddedToken(id: id, content: try node.required("content").string(),
                       special: try node.optionalBool("special", default: false),
                       leftStrip: try node.optionalBool("lstrip", default: false),
                       rightStrip: try node.optionalBool("rstrip", default: false),
                       singleWord: try node.optionalBool("single_word", default: false),
                       normalized: try node.optionalBool("normalized", default: true))
        }
    }

    /// The special tokens the post-processor puts around a single sequence.
    static func template(_ root: JSONNode) throws -> SpecialTokenTemplate {
        guard let node = try root.optional("post_processor") else { return SpecialTokenTemplate() }
        return try template(of: node)
    }

    private static func template(of node: JSONNode) throws -> SpecialTokenTemplate {
        switch try node.type() {
        case "TemplateProcessing":
            let specials = try node.optional("special_tokens")
            var result = SpecialTokenTemplate()
            var sawSequence = false
            for item in try node.required("single").array() {
                if let special = try item.optional("SpecialToken") {
                    let name = try special.required("id").string()
                    guard let entry = try specials?.optional(name) else {
                        throw special.error("special token \"\(name)\" is not in special_tokens")
                    }
                    let ids = try entry.required("ids").array().map { try $0.int() }
                    if sawSequence { result.suffix += ids } else { result.prefix += ids }
                } else if let sequence = try item.optional("Sequence") {
                    let id = try sequence.required("id").string()
                    guard id == "A", !sawSequence else { throw sequence.error("a single-sequence template must hold $A once") }
                    sawSequence = true
                } else {
                    throw item.error("expected SpecialToken or Sequence")
                }
            }
            guard sawSequence else { throw node.error("the single template has no $A") }
            return result
        case "BertProcessing", "RobertaProcessing":
            func id(_ key: String) throws -> Int {
                let pair = try node.required(key).array()
                guard pair.count == 2 else { throw node.error("\(key) must be [token, id]") }
                return try pair[1].int()
            }
            return SpecialTokenTemplate(prefix: [try id("cls")], suffix: [try id("sep")])
        case "ByteLevel":
            return SpecialTokenTemplate()
        case "Sequence":
            var result = SpecialTokenTemplate()
            for step in try node.required("processors").array() { result = result.wrapped(in: try template(of: step)) }
            return result
        case let other:
            throw node.error("unsupported post_processor type \"\(other)\"")
        }
    }

    /// The file's `truncation` and `padding`.
    static func encodingOptions(_ root: JSONNode) throws -> EncodingOptions {
        var options = EncodingOptions()
        if let node = try root.optional("truncation") {
            let maxLength = try node.required("max_length").int()
            guard maxLength >= 0 else { throw node.error("negative max_length \(maxLength)") }
            options.truncation = Truncation(maxLength: maxLength, side: try side(node.optional("direction")))
        }
        if let node = try root.optional("padding") {
            let strategy = try node.required("strategy")
            let length: Padding.Length
            if let name = strategy.value as? String {
                guard name == "BatchLongest" else { throw strategy.error("unsupported padding strategy \"\(name)\"") }
                length = .longest
            } else {
                length = .fixed(try strategy.required("Fixed").int())
            }
            options.padding = Padding(length, padID: try node.optional("pad_id")?.int() ?? 0,
                                      side: try side(node.optional("direction")),
                                      multiple: try node.optional("pad_to_multiple_of")?.int())
        }
        return options
    }

    private static func side(_ node: JSONNode?) throws -> SequenceSide {
        guard let node else { return .right }
        switch try node.string() {
        case "Right": return .right
        case "Left": return .left
        case let other: throw node.error("unknown direction \"\(other)\"")
        }
    }
}
