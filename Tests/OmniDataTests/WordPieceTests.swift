import Foundation
import Testing
@testable import OmniData

@Suite struct WordPieceTests {
    /// all-MiniLM-L6-v2's ids from sentence-transformers (the shared reference fixture).
    @Test func miniLMIDsMatchSentenceTransformers() throws {
        let tokenizer = try Assets.miniLM.get()
        let reference = try Fixtures.json("minilm_reference.json")
        let sentences = try #require(reference["sentences"] as? [String])
        let expected = try #require(reference["input_ids"] as? [[Int]])
        #expect(sentences.count == expected.count && !sentences.isEmpty)
        for (sentence, ids) in zip(sentences, expected) {
            #expect(tokenizer.encode(sentence, addSpecialTokens: true) == ids, "\(sentence)")
        }
    }

    /// Tricky texts (accents, CJK, controls, long words, added tokens in the text) against Hugging
    /// Face tokenizers 0.23 with the same file.
    @Test func miniLMIDsMatchHuggingFaceOnTrickyTexts() throws {
        let tokenizer = try Assets.miniLM.get()
        let reference = try Fixtures.json("wordpiece_extra.json")
        let texts = try #require(reference["texts"] as? [String])
        let ids = try #require(reference["ids"] as? [[Int]])
        let plain = try #require(reference["ids_without_special"] as? [[Int]])
        for (k, text) in texts.enumerated() {
            #expect(tokenizer.encode(text, addSpecialTokens: true) == ids[k], "\(text.debugDescription)")
            #expect(tokenizer.encode(text, addSpecialTokens: false) == plain[k], "\(text.debugDescription)")
        }
    }

    @Test func decodeMatchesHuggingFace() throws {
        let tokenizer = try Assets.miniLM.get()
        let reference = try Fixtures.json("wordpiece_extra.json")
        let cases = try #require(reference["decode_ids"] as? [[Int]])
        let decoded = try #require(reference["decoded"] as? [String])
        let skipping = try #require(reference["decoded_skipping_special"] as? [String])
        for (k, ids) in cases.enumerated() {
            #expect(tokenizer.decode(ids, skipSpecialTokens: false) == decoded[k])
            #expect(tokenizer.decode(ids, skipSpecialTokens: true) == skipping[k])
        }
    }

    /// The file asks for truncation to 128 and fixed padding to 128; `[SEP]` survives truncation.
    @Test func fileTruncationAndPaddingAreTheDefaults() throws {
        let tokenizer = try Assets.miniLM.get()
        #expect(tokenizer.defaultEncodingOptions == EncodingOptions(truncation: Truncation(maxLength: 128),
                                                                      padding: Padding(.fixed(128), padID: 0)))
        let reference = try Fixtures.json("wordpiece_extra.json")
        let long = try tokenizer.encode(#require(reference["file_options_text"] as? String))
        #expect(long.ids == reference["file_options_ids"] as? [Int])
        #expect(long.attentionMask == reference["file_options_mask"] as? [Int])
        #expect(long.ids.count == 128 && long.ids.first == 101 && long.ids.last == 102)

        let short = tokenizer.encode("hello")
        #expect(short.ids == [101, 7592, 102] + Array(repeating: 0, count: 125))
        #expect(short.attentionMask == [1, 1, 1] + Array(repeating: 0, count: 125))
    }

    @Test func vocabularyAndAddedTokens() throws {
        let tokenizer = try Assets.miniLM.get()
        #expect(tokenizer.vocabularySize == 30522)
        #expect(tokenizer.addedTokens.map(\.content) == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        // Added tokens are matched in the raw text, case-sensitively: "[cls]" is ordinary text.
        #expect(tokenizer.encode("[CLS][cls]", addSpecialTokens: false) == [101, 1031, 18856, 2015, 1033])
    }
}

/// Expectations derived by hand from the BERT algorithm.
@Suite struct BertAlgorithmTests {
    @Test func normalizerCleansSpacesStripsAndLowercases() {
        let bert = BertNormalizer()
        #expect(bert.normalize("Héllo\tWÖRLD\r\n") == "hello world  ")
        #expect(bert.normalize("a\u{0}b\u{fffd}c\u{200b}d\u{7f}e\u{e000}f") == "abcdef")  // NUL, U+FFFD, Cf, Cc, Co dropped
        #expect(bert.normalize("\u{a0}x\u{3000}y\u{2028}z") == " x y z")  // whitespace becomes a space
        #expect(bert.normalize("ab日本c") == "ab 日  本 c")
        #expect(bert.normalize("한국어") == "한국어")  // Hangul is not among the CJK blocks
        #expect(bert.normalize("e\u{301} ñ Ångström") == "e n angstrom")  // NFD, then Mn dropped
        #expect(bert.normalize("ΣΑΣ İ ẞ") == "σασ i ß")  // per-scalar lowercase: no final sigma
        #expect(bert.normalize("\u{378}") == "\u{378}")  // unassigned (Cn) is kept
    }

    @Test func normalizerOptions() {
        #expect(BertNormalizer(lowercase: false).normalize("Café") == "Café")  // strip follows lowercase
        #expect(BertNormalizer(stripAccents: true, lowercase: false).normalize("Café") == "Cafe")
        #expect(BertNormalizer(stripAccents: false).normalize("Café") == "café")
        #expect(BertNormalizer(handleChineseCharacters: false).normalize("日本") == "日本")
        #expect(BertNormalizer(cleanText: false).normalize("a\tb") == "a\tb")
    }

    @Test func preTokenizerSplitsWhitespaceAndPunctuation() {
        func split(_ text: String) -> [String] { BertPreTokenizer().split(text) }
        #expect(split("Hello, world!! a-b «quote» ¿que? $5 ^_^ 〜") ==
            ["Hello", ",", "world", "!", "!", "a", "-", "b", "«", "quote", "»", "¿", "que", "?", "$", "5", "^", "_", "^", "〜"])
        // ASCII symbols count as punctuation for BERT; non-ASCII symbols (Sm, So) do not.
        #expect(split("a+b<c 1×2 ©x") == ["a", "+", "b", "<", "c", "1×2", "©x"])
        #expect(split("  \n ") == [])
    }

    static let vocabulary = ["[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "un": 4, "##aff": 5, "##able": 6,
                             "una": 7, "##ff": 8, "a": 9, "##b": 10, "!": 11, "##é": 12, "e": 13, "é": 14]

    @Test func greedyLongestMatchFirst() {
        let tokenizer = WordPieceTokenizer(vocabulary: Self.vocabulary, prefixTokens: [1], suffixTokens: [2])
        // "unaffable": "una" is the longest start, then "##ff"; "##able" — greedy, not optimal.
        #expect(tokenizer.encode("unaffable", addSpecialTokens: false) == [7, 8, 6])
        #expect(tokenizer.encode("unaff!", addSpecialTokens: true) == [1, 7, 8, 11, 2])
        // Any uncovered part makes the whole word unknown.
        #expect(tokenizer.encode("unaffx ab", addSpecialTokens: false) == [0, 9, 10])
        #expect(tokenizer.decode([1, 7, 8, 6, 11, 9, 10, 2], skipSpecialTokens: false) == "[CLS] unaffable! ab [SEP]")
    }

    @Test func wordsLongerThanTheLimitAreUnknown() {
        let tokenizer = WordPieceTokenizer(vocabulary: Self.vocabulary, maxInputCharactersPerWord: 5)
        #expect(tokenizer.encode("abbbb abbbbb", addSpecialTokens: false) == [9, 10, 10, 10, 10, 0])
    }

    /// Without accent stripping "é" is a scalar of its own in the word; limits count scalars.
    @Test func scalarsNotGraphemes() {
        let keepAccents = BertNormalizer(stripAccents: false, lowercase: false)
        let tokenizer = WordPieceTokenizer(vocabulary: Self.vocabulary, maxInputCharactersPerWord: 2, normalizer: keepAccents)
        // Two scalars, no "##\u{301}"; and not "é" (14), which a String-keyed lookup would find.
        #expect(tokenizer.encode("e\u{301}", addSpecialTokens: false) == [0])
        #expect(tokenizer.encode("e\u{301}\u{301}", addSpecialTokens: false) == [0])  // three scalars > 2
        let nfc = WordPieceTokenizer(vocabulary: Self.vocabulary, normalizer: keepAccents)
        #expect(nfc.encode("eé", addSpecialTokens: false) == [13, 12])
    }
}
