import Foundation
import Testing
@testable import OmniData

/// Throughput of encoding, for BENCHMARKS.md. Run in a release build:
/// `OMNI_BENCH=1 swift test -c release --filter TokenizerBenchmarks`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["OMNI_BENCH"] != nil, "set OMNI_BENCH=1 to run benchmarks"))
struct TokenizerBenchmarks {
    /// Every reference text (shared and extra fixtures), as separate encode calls.
    static func referenceTexts() throws -> [String] {
        try ["tiktoken_reference.json", "tiktoken_extra.json", "wordpiece_extra.json"].flatMap {
            try #require(Fixtures.json($0)["texts"] as? [String])
        }
    }

    private func measure(_ name: String, _ tokenizer: some Tokenizer, _ texts: [String], repeats: Int = 200) {
        var runs: [Double] = []
        var tokens = 0
        for _ in 0 ..< 7 {
            tokens = 0
            let start = ContinuousClock.now
            for _ in 0 ..< repeats {
                for text in texts { tokens += tokenizer.encode(text, addSpecialTokens: false).count }
            }
            runs.append((ContinuousClock.now - start) / .seconds(1))
        }
        runs.sort()
        let bytes = texts.reduce(0) { $0 + $1.utf8.count } * repeats
        let median = runs[runs.count / 2]
        print(String(format: "%@: %d tokens (%d bytes) in %.1f ms median [%.1f–%.1f]: %.2f M tokens/s, %.1f MB/s",
                     name, tokens, bytes, median * 1e3, runs.first! * 1e3, runs.last! * 1e3,
                     Double(tokens) / median / 1e6, Double(bytes) / median / 1e6))
    }

    @Test func encodeReferenceSet() throws {
        let texts = try Self.referenceTexts()
        measure("cl100k", try Assets.cl100k.get(), texts)
        measure("gpt2", try Assets.gpt2.get(), texts)
        measure("minilm wordpiece", try Assets.miniLM.get(), texts)
        // Ordinary English prose, for comparison with published tokenizer speeds.
        let prose = [String(repeating: "The quick brown fox jumps over the lazy dog, and then it rests. ", count: 50)]
        if ProcessInfo.processInfo.environment["OMNI_BENCH"] == "texts" {
            let cl100k = try Assets.cl100k.get()
            for text in texts {
                let start = ContinuousClock.now
                for _ in 0 ..< 200 { _ = cl100k.encode(text, addSpecialTokens: false) }
                let seconds = (ContinuousClock.now - start) / .seconds(1)
                print(String(format: "%8.2f ms  %@", seconds * 1e3, String(text.prefix(40)).debugDescription))
            }
        }
        measure("cl100k prose", try Assets.cl100k.get(), prose, repeats: 400)
    }
}
