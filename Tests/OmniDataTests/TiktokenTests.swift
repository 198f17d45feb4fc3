import Foundation
import Testing
@testable import OmniData

@Suite struct TiktokenTests {
    /// Ids from tiktoken 0.14 (`encode(t, disallowed_special=())`): the shared fixture, tricky texts
    /// and seeded random strings over an alphabet of the split patterns' corner cases.
    @Test(arguments: ["gpt2", "cl100k_base"])
    func idsMatchTiktoken(_ name: String) throws {
        let tokenizer = try name == "gpt2" ? Assets.gpt2.get() : Assets.cl100k.get()
        for fixture in ["tiktoken_reference.json", "tiktoken_extra.json", "tiktoken_fuzz.json"] {
            let reference = try Fixtures.json(fixture)
            let texts = try #require(reference["texts"] as? [String])
            let expected = try #require(reference[name] as? [[Int]])
            #expect(texts.count == expected.count)
            for (text, ids) in zip(texts, expected) {
                let got = tokenizer.encode(text, addSpecialTokens: false)
                #expect(got == ids, "\(name) \(fixture): \(text.debugDescription)")
            }
        }
    }

    @Test func whisperMultilingualMatchesTiktoken() throws {
        let tokenizer = try Assets.multilingual.get()
        let reference = try Fixtures.json("tiktoken_extra.json")
        let texts = try #require(reference["texts"] as? [String])
        let expected = try #require(reference["multilingual"] as? [[Int]])
        for (text, ids) in zip(texts, expected) {
            #expect(tokenizer.encode(text, addSpecialTokens: false) == ids, "\(text.debugDescription)")
        }
    }

    @Test func allowedSpecialTokensBecomeTheirIDs() throws {
        let reference = try Fixtures.json("tiktoken_extra.json")
        let text = try #require(reference["special_text"] as? String)
        let gpt2 = try Assets.gpt2.get(), cl100k = try Assets.cl100k.get()
        #expect(gpt2.encode(text, allowedSpecial: Set(gpt2.specialTokens.keys)) == reference["gpt2_all_special"] as? [Int])
        #expect(cl100k.encode(text, allowedSpecial: Set(cl100k.specialTokens.keys)) == reference["cl100k_all_special"] as? [Int])
        // Only the allowed one is special; the others stay text.
        let partial = cl100k.encode("<|endoftext|><|fim_prefix|>", allowedSpecial: ["<|fim_prefix|>"])
        #expect(partial == cl100k.encode("<|endoftext|>", addSpecialTokens: false) + [100258])
        #expect(cl100k.specialTokens == ["<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                                         "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276])
        #expect(gpt2.encode("<|endoftext|>", allowedSpecial: ["<|endoftext|>"]) == [50256])
        #expect(gpt2.vocabularySize == 50257 && cl100k.vocabularySize == 100277)
    }

    static let trickyTexts = [
        "emoji 👋🏽👨‍👩‍👧‍👦🇯🇵 done", "日本語 中文 한국어", "e\u{301}\u{302} o\u{308}\u{331} Z\u{351}\u{36b}",
        "  runs   of\t\t whitespace   ", "\n\n\r\n \n", "trailing newline\n", "\u{feff}\u{200b}\u{2028}\u{00a0}",
        "'S 'll 'LL 'Ve \u{17f}", "x" + String(repeating: "y", count: 500), String(repeating: "🙂", count: 40),
        "mixed 123456789 ١٢٣ ⅷ", "",
    ]

    @Test(arguments: ["gpt2", "cl100k_base", "multilingual"])
    func decodeInvertsEncode(_ name: String) throws {
        let tokenizer = try ["gpt2": Assets.gpt2, "cl100k_base": Assets.cl100k, "multilingual": Assets.multilingual][name]!.get()
        for text in Self.trickyTexts {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            #expect(tokenizer.decode(ids, skipSpecialTokens: false) == text, "\(name): \(text.debugDescription)")
            #expect(tokenizer.decodeBytes(ids) == Array(text.utf8))
        }
    }

    @Test func decodeSkipsSpecialTokensWhenAsked() throws {
        let cl100k = try Assets.cl100k.get()
        let ids = cl100k.encode("a<|endoftext|>b", allowedSpecial: ["<|endoftext|>"])
        #expect(ids.contains(100257))
        #expect(cl100k.decode(ids, skipSpecialTokens: false) == "a<|endoftext|>b")
        #expect(cl100k.decode(ids, skipSpecialTokens: true) == "ab")
        // A token may end inside a UTF-8 character: decoding it alone is lossy, the bytes are not.
        let pieces = cl100k.encode("🙂", addSpecialTokens: false)
        #expect(pieces.count > 1)
        #expect(cl100k.decode([pieces[0]], skipSpecialTokens: false) == "\u{fffd}")
        #expect(cl100k.decodeBytes(pieces) == Array("🙂".utf8))
    }

    /// The heap path for long pieces must give exactly the linear scan's result.
    @Test func heapMergeEqualsLinearMerge() throws {
        let cl100k = try Assets.cl100k.get()
        // Deterministic pseudo-random texts from a small alphabet, so many merges compete.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 33 }
        let alphabet = Array("aabbbcdeé  \n'".unicodeScalars)
        for _ in 0 ..< 20 {
            let length = 60 + Int(next() % 200)
            let text = String(String.UnicodeScalarView((0 ..< length).map { _ in alphabet[Int(next()) % alphabet.count] }))
            let bytes = Array(text.utf8)
            let byLinear = cl100k.mergeForTesting(bytes, heap: false)
            let byHeap = cl100k.mergeForTesting(bytes, heap: true)
            #expect(byLinear == byHeap, "\(text.debugDescription)")
            #expect(cl100k.decodeBytes(byHeap) == bytes)
        }
    }
}

@Suite struct SplitPatternTests {
    @Test func gpt2SplitsLikeTheRegex() {
        #expect(SplitPattern.gpt2.split("don't  stop") == ["don", "'t", " ", " stop"])
        #expect(SplitPattern.gpt2.split("Hello world!!! 123abc") == ["Hello", " world", "!!!", " 123", "abc"])
        #expect(SplitPattern.gpt2.split("a   b") == ["a", "  ", " b"])
        #expect(SplitPattern.gpt2.split("end   ") == ["end", "   "])
        #expect(SplitPattern.gpt2.split(" \tx") == [" ", "\t", "x"])
        // Contractions are case-sensitive in GPT-2's pattern.
        #expect(SplitPattern.gpt2.split("'S 'sx") == ["'", "S", " '", "sx"])
        #expect(SplitPattern.gpt2.split("it's I'LL") == ["it", "'s", " I", "'", "LL"])
        #expect(SplitPattern.gpt2.split("'rx'vx'l'r") == ["'", "rx", "'", "vx", "'", "l", "'", "r"])
        #expect(SplitPattern.gpt2.split("we're they've we'll") == ["we", "'re", " they", "'ve", " we", "'ll"])
        #expect(SplitPattern.gpt2.split("日本語 テキスト") == ["日本語", " テキスト"])
        #expect(SplitPattern.gpt2.split("") == [])
    }

    @Test func cl100kSplitsLikeTheRegex() {
        #expect(SplitPattern.cl100k.split("I'LL it's") == ["I", "'LL", " it", "'s"])
        #expect(SplitPattern.cl100k.split("1234567 x") == ["123", "456", "7", " x"])
        // A leading non-letter joins the letters after it; possessive: "(" with no letter after stays apart.
        #expect(SplitPattern.cl100k.split("(hello) \tand") == ["(hello", ")", " ", "\tand"])
        #expect(SplitPattern.cl100k.split("a ...\n\nb") == ["a", " ...\n\n", "b"])
        #expect(SplitPattern.cl100k.split("x  \n  \n y") == ["x", "  \n  \n", " y"])
        #expect(SplitPattern.cl100k.split("x   ") == ["x", "   "])
        #expect(SplitPattern.cl100k.split("'\u{17f}") == ["'\u{17f}"])
        #expect(SplitPattern.cl100k.split("'rx'Ve'l'r") == ["'rx", "'Ve", "'l", "'r"])
    }

    @Test func patternsAreRecognisedByTheirRegex() {
        for pattern in SplitPattern.allCases { #expect(SplitPattern(regex: pattern.regex) == pattern) }
        #expect(SplitPattern(regex: #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#) == .gpt2)
        #expect(SplitPattern(regex: #"\w+"#) == nil)
    }
}
