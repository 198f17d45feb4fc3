import Foundation
import OmniData
import OmniTensor

/// Summary statistics of the router's gates per task and modality: how strongly each task opens
/// each modality (the article's "describe the picture strengthens vision and suppresses audio").
///
/// Feed it (task, gates) records — one per sample — and read mean, population standard deviation,
/// minimum and maximum per (task, modality). Gates of modalities a sample does not carry should
/// be left out of its record (the router sets them to 0, which would drag the mean down); the
/// tensor form takes presence masks for that.
///
/// ```swift
/// var stats = GateStatistics()
/// stats.add(task: "caption", gates: [.image: 0.91, .audio: 0.12])
/// stats.add(tasks: taskNames, gates: routed.gates, modalities: routed.modalities, presence: masks)
/// print(stats.summary(task: "caption", modality: .image)!.mean)
/// ```
public struct GateStatistics: Sendable, Equatable, Codable {
    /// Count, mean, population standard deviation, minimum and maximum of a set of gate values.
    public struct Summary: Sendable, Equatable, Codable {
        /// How many gate values.
        public var count: Int
        public var mean: Double
        /// Population standard deviation (divides by the count, as NumPy's default).
        public var standardDeviation: Double
        public var minimum: Double
        public var maximum: Double
    }

    /// Running moments (Welford) per task and modality.
    struct Accumulator: Sendable, Equatable, Codable {
        var count = 0, mean = 0.0, m2 = 0.0, minimum = Double.infinity, maximum = -Double.infinity

        mutating func add(_ x: Double) {
            count += 1
            let delta = x - mean
            mean += delta / Double(count)
            m2 += delta * (x - mean)
            minimum = Swift.min(minimum, x)
            maximum = Swift.max(maximum, x)
        }

        var summary: Summary {
            Summary(count: count, mean: mean, standardDeviation: count > 0 ? Foundation.sqrt(Swift.max(0, m2 / Double(count))) : 0,
                    minimum: minimum, maximum: maximum)
        }
    }

    private var accumulators: [String: [Modality: Accumulator]] = [:]

    public init() {}

    /// Statistics of `records`.
    public init(records: [(task: String, gates: [Modality: Double])]) {
        for r in records { add(task: r.task, gates: r.gates) }
    }

    /// Records one sample's gates.
    public mutating func add(task: String, gates: [Modality: Double]) {
        for (m, g) in gates { accumulators[task, default: [:]][m, default: Accumulator()].add(g) }
    }

    /// Records a batch: `gates` float32 [B, M] with columns in `modalities` order, `tasks` [B];
    /// where `presence[m]` (bool [B]) is false, that sample's gate for m is skipped.
    public mutating func add(tasks: [String], gates: Tensor, modalities: [Modality], presence: [Modality: Tensor] = [:]) {
        precondition(gates.rank == 2 && gates.shape == [tasks.count, modalities.count],
                     "GateStatistics: gates \(gates.shape) must be [B, M] = [\(tasks.count), \(modalities.count)]")
        let values = gates.toArray()
        var present: [Modality: [Bool]] = [:]
        for (m, p) in presence {
            precondition(p.dtype == .bool && p.shape == [tasks.count], "GateStatistics: presence[\(m.rawValue)] must be bool [\(tasks.count)], got \(p.dtype) \(p.shape)")
            present[m] = p.toBoolArray()
        }
        for (b, task) in tasks.enumerated() {
            var record: [Modality: Double] = [:]
            for (j, m) in modalities.enumerated() where present[m]?[b] ?? true { record[m] = Double(values[b * modalities.count + j]) }
            add(task: task, gates: record)
        }
    }

    /// The tasks seen, sorted.
    public var tasks: [String] { accumulators.keys.sorted() }

    /// The statistics of `modality`'s gate under `task` (nil when never recorded).
    public func summary(task: String, modality: Modality) -> Summary? { accumulators[task]?[modality]?.summary }

    /// Every (task → modality → statistics).
    public var summaries: [String: [Modality: Summary]] { accumulators.mapValues { $0.mapValues(\.summary) } }
}
