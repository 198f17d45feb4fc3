import Foundation
import Testing
@testable import OmniData

/// Bad files throw a `TokenizerError` naming the file and what is wrong, never crash.
@Suite final class TokenizerFileErrorTests {
    private let directory: URL

    init() throws { directory = try temporaryDirectory() }

    deinit { try? FileManager.default.removeItem(at: directory) }

    private func write(_ text: String, _ name: String) throws -> URL {
        let url = directory.appending(path: name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// A .tiktoken file with all 256 bytes, then `extra` lines.
    private func tiktoken(_ extra: String) -> String {
        (0 ..< 256).map { "\(Base64.encode([UInt8($0)])) \($0)\n" }.joined() + extra
    }

    @Test func badTiktokenFiles() throws {
        let cases: [(String, String)] = [
            ("!!!! 256\n", "line 257: invalid base64 token \"!!!!\""),
            ("YWJ 256\n", "line 257: invalid base64"),
            ("YWI=\n", "line 257: expected \"<base64 token> <rank>\""),
            ("YWI= x\n", "line 257: rank \"x\" is not a non-negative integer"),
            ("YWI= 25 6\n", "line 257: rank \"25 6\""),
            ("YWI= \n", "line 257: missing rank"),
            ("YWI= 256\nYWI= 257\n", "appears twice"),
            ("YWI= 255\n", "rank 255 is given to two tokens"),
            ("YWI= 9999999999\n", "rank 9999999999 is far beyond the 257 tokens"),
        ]
        for (extra, message) in cases {
            let url = try write(tiktoken(extra), "bad.tiktoken")
            expectTokenizerError(file: "bad.tiktoken", containing: message) {
                _ = try TiktokenTokenizer(contentsOf: url, pattern: .gpt2)
            }
        }
        let missingByte = try write((0 ..< 255).map { "\(Base64.encode([UInt8($0)])) \($0)\n" }.joined(), "short.tiktoken")
        expectTokenizerError(file: "short.tiktoken", containing: "byte 0xff has no rank") {
            _ = try TiktokenTokenizer(contentsOf: missingByte, pattern: .gpt2)
        }
        let good = try write(tiktoken(""), "good.tiktoken")
        expectTokenizerError(file: "good.tiktoken", containing: "special token <|x|> has id 7, which is also a rank") {
            _ = try TiktokenTokenizer(contentsOf: good, pattern: .gpt2, specialTokens: ["<|x|>": 7])
        }
        let empty = try write("\n\n", "empty.tiktoken")
        expectTokenizerError(file: "empty.tiktoken", containing: "no tokens") {
            _ = try TiktokenTokenizer(contentsOf: empty, pattern: .gpt2)
        }
        expectTokenizerError(file: "nowhere.tiktoken", containing: "cannot read") {
            _ = try TiktokenTokenizer(contentsOf: URL(filePath: "/nonexistent/nowhere.tiktoken"), pattern: .gpt2)
        }
        // Sanity: the good file loads and encodes bytes one by one.
        #expect(try TiktokenTokenizer(contentsOf: good, pattern: .gpt2).encode("ab", addSpecialTokens: false) == [97, 98])
    }

    /// A minimal valid WordPiece tokenizer.json, as a JSON object to break in different ways.
    static var wordPiece: [String: Any] { [
        "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": [],
        "normalizer": ["type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": NSNull(), "lowercase": true],
        "pre_tokenizer": ["type": "BertPreTokenizer"],
        "post_processor": NSNull(),
        "decoder": ["type": "WordPiece", "prefix": "##", "cleanup": true],
        "model": ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ["[UNK]": 0, "a": 1, "##b": 2]],
    ] }

    private func load(_ json: Any, _ name: String = "tokenizer.json") throws -> any Tokenizer {
        let url = directory.appending(path: name)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return try HuggingFaceTokenizer.load(contentsOf: url)
    }

    private func changed(_ path: [String], to value: Any?) -> [String: Any] {
        func set(_ object: [String: Any], _ path: ArraySlice<String>) -> [String: Any] {
            var object = object
            if path.count == 1 {
                object[path.first!] = value
            } else {
                object[path.first!] = set(object[path.first!] as! [String: Any], path.dropFirst())
            }
            return object
        }
        return set(Self.wordPiece, path[...])
    }

    @Test func validMinimalFileLoads() throws {
        let tokenizer = try load(Self.wordPiece)
        #expect(tokenizer.encode("AB a", addSpecialTokens: true) == [1, 2, 1])
    }

    @Test func badTokenizerJSONFiles() throws {
        let cases: [(Any, String)] = [
            (changed(["model", "type"], to: "Unigram"), "model.type: unsupported model type \"Unigram\""),
            (changed(["normalizer"], to: ["type": "Precompiled"]), "normalizer: unsupported normalizer type \"Precompiled\""),
            (changed(["pre_tokenizer"], to: ["type": "Metaspace"]), "pre_tokenizer: unsupported pre_tokenizer type \"Metaspace\""),
            (changed(["decoder"], to: ["type": "CTC"]), "decoder: unsupported decoder type \"CTC\""),
            (changed(["post_processor"], to: ["type": "Magic"]), "post_processor: unsupported post_processor type \"Magic\""),
            (changed(["model", "vocab"], to: nil), "model: missing field \"vocab\""),
            (changed(["model", "vocab"], to: ["a", "b"]), "model.vocab: expected an object, found an array"),
            (changed(["model", "vocab"], to: ["a": "one"]), "the id of \"a\" is not a non-negative integer"),
            (changed(["model", "vocab"], to: ["[UNK]": 0, "a": 1_000_000_000_000]), "the id 1000000000000 of \"a\" is far beyond"),
            (changed(["added_tokens"], to: [["id": -1, "content": "[X]"]]), "added_tokens[0].id: id -1 is out of range"),
            (changed(["added_tokens"], to: [["id": 3]]), "added_tokens[0]: missing field \"content\""),
            (changed(["model", "unk_token"], to: "[MISSING]"), "the unknown token \"[MISSING]\" is not in the vocabulary"),
            (changed(["normalizer", "lowercase"], to: "yes"), "normalizer.lowercase: expected a boolean, found a string"),
            (changed(["model"], to: nil), "missing field \"model\""),
            (changed(["padding"], to: ["strategy": "Sometimes"]), "unsupported padding strategy \"Sometimes\""),
            ([1, 2, 3], "expected an object, found an array"),
        ]
        for (json, message) in cases {
            expectTokenizerError(file: "tokenizer.json", containing: message) { _ = try load(json) }
        }
        let garbage = try write("{\"model\": [", "broken.json")
        expectTokenizerError(file: "broken.json", containing: "not valid JSON") {
            _ = try HuggingFaceTokenizer.load(contentsOf: garbage)
        }
    }

    @Test func badByteLevelFiles() throws {
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("bytelevel_small.json"))) as! [String: Any]
        func with(_ key: String, _ value: Any, inModel: Bool = false) -> [String: Any] {
            var json = base
            if inModel {
                var model = json["model"] as! [String: Any]
                model[key] = value
                json["model"] = model
            } else {
                json[key] = value
            }
            return json
        }
        let cases: [([String: Any], String)] = [
            (with("normalizer", ["type": "NFKC"]), "normalizer: unsupported normalizer type \"NFKC\""),
            (with("pre_tokenizer", ["type": "Whitespace"]), "unsupported pre_tokenizer type \"Whitespace\""),
            (with("merges", [["x", "nope"]], inModel: true), "model.merges[0]: merge \"x nope\" uses a token that is not in the vocabulary"),
            (with("merges", ["a b c"], inModel: true), "model.merges[0]: a merge must have two parts, found 3"),
            (with("dropout", 0.1, inModel: true), "model.dropout: BPE dropout is not supported"),
            (with("pre_tokenizer", ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]]),
             "pre_tokenizer.pretokenizers[0]: unsupported split pattern \\w+"),
        ]
        for (json, message) in cases {
            expectTokenizerError(file: "tokenizer.json", containing: message) { _ = try load(json) }
        }
        // A Split with cl100k's pattern before ByteLevel is supported.
        let cl100kStyle = with("pre_tokenizer", ["type": "Sequence", "pretokenizers": [
            ["type": "Split", "pattern": ["Regex": SplitPattern.cl100k.regex], "behavior": "Isolated", "invert": false],
            ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]])
        let tokenizer = try #require(try load(cl100kStyle) as? ByteLevelBPETokenizer)
        #expect(tokenizer.pattern == .cl100k && !tokenizer.addPrefixSpace)
    }
}
