import Foundation
import Testing
@testable import OmniData

@Suite struct ByteLevelBPETests {
    /// Two small GPT-2-style files trained with Hugging Face tokenizers (one with `add_prefix_space`,
    /// a `<s> $A </s>` template and merges spelled as "a b" strings), against its ids and decodings.
    @Test func idsAndDecodingsMatchHuggingFace() throws {
        let plain = try ByteLevelBPETokenizer(contentsOf: Fixtures.url("bytelevel_small.json"))
        let prefixed = try #require(try HuggingFaceTokenizer.load(contentsOf: Fixtures.url("bytelevel_small_prefix.json"))
            as? ByteLevelBPETokenizer)
        #expect(!plain.addPrefixSpace && prefixed.addPrefixSpace && plain.pattern == .gpt2)
        let reference = try Fixtures.json("bytelevel_reference.json")
        let texts = try #require(reference["texts"] as? [String])
        let plainIDs = try #require(reference["plain_ids"] as? [[Int]])
        let prefixIDs = try #require(reference["prefix_ids"] as? [[Int]])
        let prefixPlain = try #require(reference["prefix_ids_without_special"] as? [[Int]])
        let plainDecoded = try #require(reference["plain_decoded"] as? [String])
        let prefixDecoded = try #require(reference["prefix_decoded_skipping_special"] as? [String])
        for (k, text) in texts.enumerated() {
            #expect(plain.encode(text, addSpecialTokens: true) == plainIDs[k], "\(text.debugDescription)")
            #expect(prefixed.encode(text, addSpecialTokens: true) == prefixIDs[k], "\(text.debugDescription)")
            #expect(prefixed.encode(text, addSpecialTokens: false) == prefixPlain[k], "\(text.debugDescription)")
            #expect(plain.decode(plainIDs[k], skipSpecialTokens: false) == plainDecoded[k])
            #expect(prefixed.decode(prefixIDs[k], skipSpecialTokens: true) == prefixDecoded[k])
        }
    }

    @Test func roundTripsTrickyText() throws {
        let plain = try ByteLevelBPETokenizer(contentsOf: Fixtures.url("bytelevel_small.json"))
        for text in TiktokenTests.trickyTexts {
            #expect(plain.decode(plain.encode(text, addSpecialTokens: true), skipSpecialTokens: false) == text)
        }
    }

    /// gpt2.tiktoken written as a `tokenizer.json` (vocabulary in the byte-level alphabet, merges
    /// recovered from the ranks) must encode exactly like tiktoken: the two merge orders agree.
    @Test func gpt2AsTokenizerJSONMatchesTiktoken() throws {
        let gpt2 = try Assets.gpt2.get()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appending(path: "tokenizer.json")
        try writeTokenizerJSON(gpt2, to: url)
        let converted = try ByteLevelBPETokenizer(contentsOf: url)
        let reference = try Fixtures.json("tiktoken_reference.json")
        let texts = try #require(reference["texts"] as? [String]) + TiktokenTests.trickyTexts
        // tokenizer.json added tokens always match, unlike tiktoken's plain encoding: leave those out.
        for text in texts where !text.contains("<|endoftext|>") {
            #expect(converted.encode(text, addSpecialTokens: false) == gpt2.encode(text, addSpecialTokens: false),
                    "\(text.debugDescription)")
        }
        #expect(converted.encode("a<|endoftext|>", addSpecialTokens: false).last == 50256)
    }

    /// HF's conversion: each token's merge is the split its own bytes reach when merged with the
    /// ranks below it.
    private func writeTokenizerJSON(_ tokenizer: TiktokenTokenizer, to url: URL) throws {
        var vocab: [String: Int] = [:]
        var merges: [[String]] = []
        func spell(_ bytes: [UInt8]) -> String {
            String(String.UnicodeScalarView(bytes.map { ByteLevelAlphabet.scalars[Int($0)] }))
        }
        let ranks = tokenizer.mergeableRanks
        let table = Dictionary(uniqueKeysWithValues: ranks.map { ($0.bytes, $0.rank) })
        for (bytes, rank) in ranks {
            vocab[spell(bytes)] = rank
            guard bytes.count > 1 else { continue }
            var parts = bytes.map { [$0] }
            while parts.count > 2 {
                var best = -1, bestRank = Int.max
                for i in 0 ..< parts.count - 1 {
                    if let r = table[parts[i] + parts[i + 1]], r < rank, r < bestRank { best = i; bestRank = r }
                }
                guard best >= 0 else { break }
                parts[best] += parts[best + 1]
                parts.remove(at: best + 1)
            }
            #expect(parts.count == 2)
            merges.append([spell(parts[0]), spell(parts[1])])
        }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "normalizer": NSNull(),
            "added_tokens": [["id": 50256, "content": "<|endoftext|>", "special": true, "lstrip": false,
                              "rstrip": false, "single_word": false, "normalized": false]],
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "vocab": vocab,
                      "merges": merges],
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }
}
