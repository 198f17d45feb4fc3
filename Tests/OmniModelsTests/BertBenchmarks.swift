// Throughput of SentenceEmbedder on all-MiniLM-L6-v2, run by scripts/bench-minilm.sh in a release
// build (OMNI_BENCH=1; OMNI_BENCH_OUT=file.json also writes the sentences and timings there, for
// the PyTorch side of the script to run the same workload).
import Foundation
import Testing
import OmniModels

@Suite(.enabled(if: ProcessInfo.processInfo.environment["OMNI_BENCH"] == "1", "set OMNI_BENCH=1 (release build)"))
struct BertBenchmarks {
    @Test func miniLMThroughput() throws {
        let embedder = try MiniLM.embedder.get()
        let env = ProcessInfo.processInfo.environment
        let threads = env["OMNI_BENCH_THREADS"].flatMap { Int($0) } ?? 2
        let batch = env["OMNI_BENCH_BATCH"].flatMap { Int($0) } ?? 32
        let result = embedder.benchmark(SentenceEmbedder.benchmarkSentences, batchSize: batch, threads: threads)
        print("omni: \(result.summary)")
        #expect(result.median > 0)
        if let out = env["OMNI_BENCH_OUT"] {
            struct Report: Encodable { let sentences: [String]; let result: SentenceEmbedder.BenchmarkResult; let median: Double }
            let report = Report(sentences: SentenceEmbedder.benchmarkSentences, result: result, median: result.median)
            try JSONEncoder().encode(report).write(to: URL(fileURLWithPath: out))
        }
    }
}
