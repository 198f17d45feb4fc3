import Foundation
import OmniTensor

/// Relative sampling weights per modality group. Only ratios matter; zero excludes a group.
public struct ModalityWeights: Codable, Sendable, Equatable {
    public var text: Double
    public var image: Double
    public var audio: Double
    public var video: Double
    public var dicom: Double
    public var signal: Double

    public init(text: Double = 6, image: Double = 3, audio: Double = 1,
                video: Double = 0, dicom: Double = 0, signal: Double = 0) {
        self.text = text; self.image = image; self.audio = audio
        self.video = video; self.dicom = dicom; self.signal = signal
    }

    /// text : image : audio = 6 : 3 : 1; video, DICOM and signal samples are not drawn unless
    /// given a weight.
    public static let `default` = ModalityWeights()

    public subscript(modality: Modality) -> Double {
        switch modality {
        case .text: text
        case .image: image
        case .audio: audio
        case .video: video
        case .dicom: dicom
        case .signal: signal
        }
    }
}

/// Draws sample indices so that modality groups appear in a fixed ratio, reproducibly.
///
/// Each sample belongs to the group of its primary modality (``ManifestSample/primaryModality``:
/// the first of image, audio, video, dicom, signal it has, else text). Every step:
/// 1. a group is drawn with probability proportional to its weight, among groups that have both
///    a positive weight and at least one sample (weights are renormalised over those);
/// 2. the group's next index is taken from its own shuffled order, *without replacement*; when
///    a group's order is used up it is reshuffled and cycled, so a small group repeats only after
///    every one of its samples was seen.
///
/// The group draw is random per step, so over an epoch the group counts follow a multinomial
/// with the weight ratios as probabilities (exact ratios in expectation, not per epoch). An epoch
/// is ``epochLength`` steps (default: the number of samples in weighted groups); ``epoch`` and
/// ``step`` just count them. All randomness comes from one OmniTensor ``Generator``, and
/// ``state`` captures everything, so restoring it continues the sequence exactly.
///
/// ```swift
/// let sampler = ModalitySampler(manifest: manifest, seed: 0)
/// let batch = (0..<32).map { _ in sampler.next() }   // indices into manifest.samples
/// let saved = sampler.state                           // Codable: store in the checkpoint
/// ```
public final class ModalitySampler {
    /// Everything needed to resume a sampler exactly.
    public struct State: Codable, Sendable, Equatable {
        public var epoch: Int
        public var step: Int
        public var generator: [UInt64]
        /// Per group (in ``Modality/allCases`` order): the current shuffled order and position.
        public var orders: [[Int]]
        public var cursors: [Int]
        /// Group sizes, to refuse a state saved for a different manifest.
        public var groupSizes: [Int]
    }

    /// Sample indices per group, in ``Modality/allCases`` order, ascending.
    public let groups: [[Int]]
    public let weights: ModalityWeights
    /// Steps per epoch.
    public let epochLength: Int
    /// Completed epochs.
    public private(set) var epoch = 0
    /// Steps taken in the current epoch.
    public private(set) var step = 0

    private let generator: Generator
    private var orders: [[Int]]
    private var cursors: [Int]
    /// Groups that can be drawn, with cumulative weights.
    private let active: [Int]
    private let cumulative: [Double]

    /// A sampler over samples whose primary modalities are `modalities` (index i ↦ sample i).
    public init(modalities: [Modality], weights: ModalityWeights = .default, seed: UInt64,
                epochLength: Int? = nil) {
        var groups = [[Int]](repeating: [], count: Modality.allCases.count)
        for (i, m) in modalities.enumerated() { groups[Modality.allCases.firstIndex(of: m)!].append(i) }
        for m in Modality.allCases {
            let w = weights[m]
            check(w.isFinite && w >= 0, "ModalitySampler", "weight for \(m.rawValue) must be finite and >= 0, got \(w)")
        }
        var active: [Int] = [], cumulative: [Double] = [], total = 0.0
        for (g, m) in Modality.allCases.enumerated() where weights[m] > 0 && !groups[g].isEmpty {
            total += weights[m]
            active.append(g); cumulative.append(total)
        }
        let counts = Modality.allCases.enumerated().map { "\($0.element.rawValue) \(groups[$0.offset].count)" }
        check(!active.isEmpty, "ModalitySampler",
              "no group has both samples and a positive weight (samples: \(counts.joined(separator: ", ")))")
        let length = epochLength ?? active.reduce(0) { $0 + groups[$1].count }
        check(length > 0, "ModalitySampler", "epochLength must be positive, got \(length)")
        self.groups = groups
        self.weights = weights
        self.epochLength = length
        self.active = active
        self.cumulative = cumulative
        self.generator = Generator(seed: seed)
        self.orders = groups
        self.cursors = [Int](repeating: 0, count: groups.count)
        for g in active { shuffle(g) }
    }

    /// A sampler over a manifest's samples; indices refer to `manifest.samples`.
    public convenience init(manifest: Manifest, weights: ModalityWeights = .default, seed: UInt64,
                            epochLength: Int? = nil) {
        self.init(modalities: manifest.samples.map(\.primaryModality), weights: weights, seed: seed,
                  epochLength: epochLength)
    }

    private func shuffle(_ g: Int) {
        var order = orders[g]
        var i = order.count - 1
        while i > 0 {
            let j = generator.nextInt(below: i + 1)
            order.swapAt(i, j)
            i -= 1
        }
        orders[g] = order
        cursors[g] = 0
    }

    /// The next sample index.
    public func next() -> Int {
        if step == epochLength { epoch += 1; step = 0 }
        let u = generator.nextDouble() * cumulative.last!
        // Last active group catches u == total from rounding.
        let pick = cumulative.firstIndex { u < $0 } ?? (active.count - 1)
        let g = active[pick]
        if cursors[g] == orders[g].count { shuffle(g) }
        let index = orders[g][cursors[g]]
        cursors[g] += 1
        step += 1
        return index
    }

    /// The next `count` indices.
    public func next(_ count: Int) -> [Int] { (0..<count).map { _ in next() } }

    /// The rest of the current epoch (a whole epoch when one just ended or none started).
    public func nextEpoch() -> [Int] {
        let remaining = step == epochLength ? epochLength : epochLength - step
        return next(remaining)
    }

    /// The sampler's position, for checkpoints.
    public var state: State {
        State(epoch: epoch, step: step, generator: generator.state, orders: orders, cursors: cursors,
              groupSizes: groups.map(\.count))
    }

    /// Continues from a saved ``state``. The state must come from a sampler over the same groups.
    public func restore(_ state: State) {
        let sizes = groups.map(\.count)
        check(state.groupSizes == sizes, "ModalitySampler.restore",
              "state was saved for group sizes \(state.groupSizes), this sampler has \(sizes)")
        check(state.orders.map(\.count) == sizes && state.cursors.count == sizes.count
              && zip(state.cursors, sizes).allSatisfy { 0 <= $0 && $0 <= $1 }
              && zip(state.orders, groups).allSatisfy { $0.sorted() == $1 }
              && state.step >= 0 && state.step <= epochLength && state.epoch >= 0,
              "ModalitySampler.restore", "state is inconsistent with this sampler's groups and epoch length \(epochLength)")
        generator.state = state.generator
        orders = state.orders
        cursors = state.cursors
        epoch = state.epoch
        step = state.step
    }
}

/// Stops with a message naming the operation when `condition` is false (OmniTensor's `check`
/// is internal to that module).
private func check(_ condition: @autoclosure () -> Bool, _ op: String, _ message: @autoclosure () -> String,
                   file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { preconditionFailure("\(op): \(message())", file: file, line: line) }
}
