import Foundation
import Testing
@testable import OmniData

@Suite struct BPETrainerTests {
    static let corpus = [
        "the cat sat on the mat. the cat ate the rat.",
        "low lower lowest; new newer newest; wide wider widest",
        "日本語のテキスト 👋🏽 naïve café <|endoftext|> tabs\tand\nnewlines\n\n",
        "the the the the cat cat mat mat",
    ]

    /// Merges worked out by hand for a tiny corpus: pieces "aaab" ×1 and " aaab" ×1 (GPT-2 split of
    /// "aaab aaab"). Pair counts: (a,a) 4, (a,b) 2, (" ",a) 1. First merge "aa" (256); then words are
    /// [aa,a,b] and [" ",aa,a,b]: (aa,a) 2, (a,b) 2 → tie → smaller pair (97,98) "ab" wins over
    /// (256,97): merge "ab" (257); then (aa,ab) 2 → "aaab" (258); then (" ",aaab) 1 → " aaab" (259).
    @Test func handDerivedMerges() {
        let tokenizer = BPETrainer(vocabularySize: 261, specialTokens: ["<|endoftext|>"]).train(on: ["aaab aaab"])
        let learned = tokenizer.mergeableRanks.filter { $0.rank >= 256 }.map { String(decoding: $0.bytes, as: UTF8.self) }
        #expect(learned == ["aa", "ab", "aaab", " aaab"])
        #expect(tokenizer.specialTokens == ["<|endoftext|>": 260])
        #expect(tokenizer.vocabularySize == 261)
        #expect(tokenizer.encode("aaab aaab", addSpecialTokens: false) == [258, 259])
        // Training ran out of pairs before the size was reached: fewer ranks, nothing invented.
        let small = BPETrainer(vocabularySize: 1000).train(on: ["aaab aaab"])
        #expect(small.mergeableRanks.count == 260)
    }

    @Test func trainingIsDeterministicAndOrderFree() {
        let trainer = BPETrainer(vocabularySize: 400, pattern: .cl100k, specialTokens: ["<|endoftext|>", "<|pad|>"])
        let first = trainer.train(on: Self.corpus)
        let second = trainer.train(on: Self.corpus)
        let shuffled = trainer.train(on: Self.corpus.reversed())
        #expect(first.mergeableRanks.map(\.bytes) == second.mergeableRanks.map(\.bytes))
        #expect(first.mergeableRanks.map(\.bytes) == shuffled.mergeableRanks.map(\.bytes))
        #expect(first.mergeableRanks.count > 256 && first.mergeableRanks.count <= 398)
        #expect(first.specialTokens == ["<|endoftext|>": first.mergeableRanks.count, "<|pad|>": first.mergeableRanks.count + 1])
    }

    @Test func roundTripsAndCompressesItsTrainingText() {
        let tokenizer = BPETrainer(vocabularySize: 600, specialTokens: ["<|endoftext|>"]).train(on: Self.corpus)
        for text in Self.corpus + TiktokenTests.trickyTexts {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            #expect(tokenizer.decode(ids, skipSpecialTokens: false) == text)
        }
        let text = Self.corpus.joined()
        #expect(tokenizer.encode(text, addSpecialTokens: false).count * 2 < text.utf8.count)
        // The special token was never merged into text pieces.
        #expect(!tokenizer.mergeableRanks.contains { String(decoding: $0.bytes, as: UTF8.self).contains("endoftext|>") })
        #expect(tokenizer.encode("<|endoftext|>", allowedSpecial: ["<|endoftext|>"]) == [tokenizer.specialTokens["<|endoftext|>"]!])
    }

    @Test func savedFileLoadsToTheSameTokenizer() throws {
        let tokenizer = BPETrainer(vocabularySize: 500, specialTokens: ["<|endoftext|>"]).train(on: Self.corpus)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appending(path: "trained.tiktoken")
        try tokenizer.save(to: url)
        let loaded = try TiktokenTokenizer(contentsOf: url, pattern: tokenizer.pattern, specialTokens: tokenizer.specialTokens)
        #expect(loaded.mergeableRanks.map(\.bytes) == tokenizer.mergeableRanks.map(\.bytes))
        for text in Self.corpus {
            #expect(loaded.encode(text, addSpecialTokens: false) == tokenizer.encode(text, addSpecialTokens: false))
        }
        // The saved file is a real .tiktoken file: its first line is byte 0.
        let firstLine = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").first
        #expect(firstLine == "AA== 0")
    }

    /// Saving gpt2.tiktoken again reproduces the file byte for byte.
    @Test func savingAVocabularyReproducesTheFile() throws {
        let gpt2 = try Assets.gpt2.get()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appending(path: "gpt2.tiktoken")
        try gpt2.save(to: url)
        #expect(try Data(contentsOf: url) == Data(contentsOf: Assets.url("whisper/gpt2.tiktoken")))
    }
}
