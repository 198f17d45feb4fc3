import Foundation
import OmniTensor

extension SentenceEmbedder {
    /// Throughput of ``SentenceEmbedder/embed(_:batchSize:)`` (tokenizing included).
    public struct BenchmarkResult: Sendable, Codable {
        public let sentences: Int
        public let batchSize: Int
        public let threads: Int
        /// Wall-clock seconds of each timed run (warm-up runs excluded).
        public let seconds: [Double]

        /// Sentences per second of each run, sorted.
        public var sentencesPerSecond: [Double] { seconds.map { Double(sentences) / $0 }.sorted() }
        public var median: Double {
            let s = sentencesPerSecond
            return s.isEmpty ? 0 : (s[(s.count - 1) / 2] + s[s.count / 2]) / 2
        }

        /// `612.3 sentences/s (median of 5; 598.0–620.1), batch 32, 2 threads`
        public var summary: String {
            let s = sentencesPerSecond
            return String(format: "%.1f sentences/s (median of %d; %.1f–%.1f), batch %d, %d threads",
                          median, s.count, s.first ?? 0, s.last ?? 0, batchSize, threads)
        }
    }

    /// Embeds `texts` `warmup + runs` times with `threads` threads and reports the timed runs.
    /// The thread count is restored afterwards.
    ///
    /// ```swift
    /// let r = embedder.benchmark(SentenceEmbedder.benchmarkSentences, batchSize: 32, threads: 2)
    /// print(r.summary)
    /// ```
    public func benchmark(_ texts: [String] = SentenceEmbedder.benchmarkSentences, batchSize: Int = 32, threads: Int = 2,
                          warmup: Int = 2, runs: Int = 7) -> BenchmarkResult {
        precondition(!texts.isEmpty && runs >= 1 && warmup >= 0, "SentenceEmbedder.benchmark: needs texts and at least one run")
        let saved = Threads.count
        Threads.count = threads
        defer { Threads.count = saved }
        for _ in 0..<warmup { _ = embed(texts, batchSize: batchSize) }
        let clock = ContinuousClock()
        let seconds = (0..<runs).map { _ -> Double in
            let elapsed = clock.measure { _ = embed(texts, batchSize: batchSize) }
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
        return BenchmarkResult(sentences: texts.count, batchSize: batchSize, threads: threads, seconds: seconds)
    }

    /// 64 fixed English sentences of 5 to 60 words (the six of sentence-transformers' README
    /// example among them), the workload of `scripts/bench-minilm.sh`.
    public static let benchmarkSentences: [String] = {
        let base = [
            "This is an example sentence",
            "Each sentence is converted",
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The new movie is awesome",
            "The cat sits outside",
            "A man is playing guitar.",
            "The new movie is so great and everyone in the theatre loved it from start to finish.",
            "Two women are walking their dogs along the beach while the sun sets behind the hills.",
            "The quarterly report shows that revenue grew by twelve percent, driven mostly by strong sales in the northern region.",
            "Please remember to bring your passport, your boarding pass and a printed copy of the hotel reservation.",
            "Researchers found that sleeping less than six hours a night is associated with a higher risk of heart disease.",
            "The committee postponed its decision on the new bridge until engineers finish a detailed study of the river bed, the traffic forecasts and the expected maintenance costs over the next fifty years.",
            "In the morning the village market fills with farmers selling cheese, bread, honey and fresh vegetables, and by noon most of the stalls are empty again.",
            "Machine learning models that embed sentences into vectors make it possible to search large collections of documents by meaning rather than by exact keywords, which is useful for question answering, clustering and recommendation.",
            "After three days of heavy rain the hiking trail was closed, so we spent the afternoon in the small museum next to the station, where an old guide told us stories about the mines that once employed almost everyone in the valley and about the flood that finally closed them.",
        ]
        return (0..<4).flatMap { _ in base }
    }()
}
