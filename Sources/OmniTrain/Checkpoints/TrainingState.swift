import Foundation
import OmniTensor

/// The training progress a checkpoint restores besides weights and optimizer state: counters,
/// random generator states, and named Codable blobs for everything else (data loader position,
/// schedule state, early-stopping bookkeeping, …).
///
/// ```swift
/// var state = TrainingState(step: 1200, epoch: 3)
/// state.generators["dropout"] = dropoutGenerator.state
/// try state.store(loader.position, as: "loader")
/// // … after loading:
/// let position = try state.value(LoaderPosition.self, forKey: "loader")
/// ```
public struct TrainingState: Codable, Sendable, Equatable {
    /// Optimizer steps taken.
    public var step: Int
    /// Complete passes over the training data.
    public var epoch: Int
    /// Samples consumed so far.
    public var samplesSeen: Int
    /// ``OmniTensor/Generator/state`` by name; words are stored as decimal strings so that no
    /// JSON reader can round them through a Double.
    public var generators: [String: [UInt64]]
    /// Other state, each value JSON-encoded.
    public var blobs: [String: Data]

    public init(step: Int = 0, epoch: Int = 0, samplesSeen: Int = 0, generators: [String: [UInt64]] = [:], blobs: [String: Data] = [:]) {
        self.step = step
        self.epoch = epoch
        self.samplesSeen = samplesSeen
        self.generators = generators
        self.blobs = blobs
    }

    /// Stores `value` JSON-encoded under `key`.
    public mutating func store<T: Encodable>(_ value: T, as key: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        blobs[key] = try encoder.encode(value)
    }

    /// The value stored under `key`, or nil when there is none.
    public func value<T: Decodable>(_ type: T.Type, forKey key: String) throws -> T? {
        guard let data = blobs[key] else { return nil }
        return try JSONDecoder().decode(T.self, from: data)
    }

    enum CodingKeys: String, CodingKey { case step, epoch, samplesSeen = "samples_seen", generators, blobs }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        epoch = try c.decode(Int.self, forKey: .epoch)
        samplesSeen = try c.decode(Int.self, forKey: .samplesSeen)
        let words = try c.decode([String: [String]].self, forKey: .generators)
        generators = try words.mapValues { list in
            try list.map { s in
                guard let w = UInt64(s) else {
                    throw DecodingError.dataCorruptedError(forKey: .generators, in: c, debugDescription: "\"\(s)\" is not a 64-bit word")
                }
                return w
            }
        }
        blobs = try c.decode([String: Data].self, forKey: .blobs)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(samplesSeen, forKey: .samplesSeen)
        try c.encode(generators.mapValues { $0.map(String.init) }, forKey: .generators)
        try c.encode(blobs, forKey: .blobs)
    }
}
