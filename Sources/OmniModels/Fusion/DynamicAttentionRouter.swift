// The dynamic attention router (DESIGN.md §1): one sigmoid gate per modality and sample, computed
// from that modality's pooled features and the task embedding, scaling the modality's tokens
// before fusion.
import OmniData
import OmniNN
import OmniTensor

/// How modality streams are weighted before fusion.
public enum FusionKind: String, Codable, Sendable {
    /// Per-sample, per-task gates from the ``DynamicAttentionRouter``'s gate networks.
    case dynamic
    /// One learned, input-independent gate per modality (the ablation baseline).
    case fixed
}

/// Bounds imposed on the router's gates, per modality — e.g. an urgent case that must look at the
/// CT: `GatePolicy(minimum: [.image: 0.8])`. A missing modality keeps gate 0 whatever the policy.
public struct GatePolicy: Codable, Sendable, Equatable {
    public var minimum: [Modality: Float]
    public var maximum: [Modality: Float]

    public init(minimum: [Modality: Float] = [:], maximum: [Modality: Float] = [:]) {
        for (m, lo) in minimum {
            precondition((0...1).contains(lo), "GatePolicy: minimum gate \(lo) for \(m.rawValue) must be in [0, 1]")
            if let hi = maximum[m] { precondition(lo <= hi, "GatePolicy: minimum \(lo) > maximum \(hi) for \(m.rawValue)") }
        }
        for (m, hi) in maximum { precondition((0...1).contains(hi), "GatePolicy: maximum gate \(hi) for \(m.rawValue) must be in [0, 1]") }
        self.minimum = minimum
        self.maximum = maximum
    }

    /// No bounds.
    public static let none = GatePolicy()
}

/// What the router returns.
public struct RoutedModalities: @unchecked Sendable {
    /// Each modality's tokens scaled by its gate (padding stays zero).
    public var streams: [Modality: ModalityTokens]
    /// Gate values [B, M], columns in ``modalities`` order; 0 where a sample lacks the modality.
    public var gates: Tensor
    /// The column order of ``gates``: the router's modalities that were given, sorted.
    public var modalities: [Modality]

    /// One sample's gates by modality.
    public func gates(ofSample b: Int) -> [Modality: Float] {
        let row = gates.narrowed(axis: 0, start: b, length: 1).toArray()
        return Dictionary(uniqueKeysWithValues: zip(modalities, row))
    }
}

/// One gate per modality: `g_m = σ(MLP_m([pool(x_m); t]))` where `pool` is the masked mean of the
/// modality's tokens and `t` the task embedding. Tokens are scaled by `g_m` before fusion;
/// missing modalities get `g_m = 0`; a ``GatePolicy`` clamps gates into `[min, max]` per sample.
///
/// Keys: `gates.<modality>.fc1|fc2` (dynamic) or `fixed_logits` [M] (fixed, in
/// ``modalities`` order).
///
/// ```swift
/// let router = DynamicAttentionRouter(modalities: [.text, .image], dimension: 64,
///                                     taskDimension: 64, generator: g)
/// let routed = router([.text: textTokens, .image: imageTokens], taskEmbedding: t)   // gates [B, 2]
/// ```
public final class DynamicAttentionRouter: Module, @unchecked Sendable {
    @ModuleInfo(key: "gates") var gateNetworks: [String: MLP]
    @ParameterInfo(key: "fixed_logits") var fixedLogits: Tensor?
    public let kind: FusionKind
    /// Every modality this router can gate, sorted.
    public let modalities: [Modality]
    public let dimension: Int
    public let taskDimension: Int

    /// - Parameters:
    ///   - dimension: token feature size D of every modality stream.
    ///   - taskDimension: size of the task embedding given to each call.
    ///   - hiddenSize: width of each gate network (default D).
    public init(modalities: [Modality], dimension: Int, taskDimension: Int, hiddenSize: Int? = nil,
                kind: FusionKind = .dynamic, generator: Generator) {
        precondition(!modalities.isEmpty, "DynamicAttentionRouter: needs at least one modality")
        self.kind = kind
        self.modalities = Array(Set(modalities)).sorted()
        self.dimension = dimension
        self.taskDimension = taskDimension
        super.init()
        switch kind {
        case .dynamic:
            var nets: [String: MLP] = [:]
            for m in self.modalities {
                nets[m.rawValue] = MLP(inputSize: dimension + taskDimension, hiddenSize: hiddenSize ?? dimension,
                                       outputSize: 1, activation: .gelu, generator: generator)
            }
            gateNetworks = nets
            fixedLogits = nil
        case .fixed:
            gateNetworks = [:]
            fixedLogits = Tensor.zeros([self.modalities.count])
        }
    }

    /// Gates and scaled streams.
    ///
    /// - Parameters:
    ///   - streams: the encoded modalities present in this batch (any subset of ``modalities``);
    ///     all with the same batch size B and feature size D.
    ///   - taskEmbedding: [B, taskDimension].
    ///   - policies: bounds on the gates: none, one for every sample, or one per sample (B).
    public func callAsFunction(_ streams: [Modality: ModalityTokens], taskEmbedding: Tensor,
                               policies: [GatePolicy] = []) -> RoutedModalities {
        let given = streams.keys.sorted()
        precondition(!given.isEmpty, "DynamicAttentionRouter: no modality given")
        for m in given {
            precondition(modalities.contains(m), "DynamicAttentionRouter: modality \(m.rawValue) is not one of the router's \(modalities.map(\.rawValue))")
        }
        let b = streams[given[0]]!.batchSize
        for m in given {
            let s = streams[m]!
            precondition(s.batchSize == b && s.dimension == dimension,
                         "DynamicAttentionRouter: \(m.rawValue) tokens \(s.tokens.shape) must be [\(b), N, \(dimension)]")
        }
        precondition(taskEmbedding.shape == [b, taskDimension],
                     "DynamicAttentionRouter: task embedding \(taskEmbedding.shape) must be [\(b), \(taskDimension)]")
        precondition(policies.count <= 1 || policies.count == b,
                     "DynamicAttentionRouter: \(policies.count) gate policies for a batch of \(b): give none, one, or one per sample")

        var columns: [Tensor] = []   // each [B, 1]
        var out: [Modality: ModalityTokens] = [:]
        for m in given {
            let s = streams[m]!
            var g: Tensor                                                    // [B, 1]
            switch kind {
            case .dynamic:
                let features = Tensor.concatenated([s.pooled(), taskEmbedding], axis: 1)   // [B, D + Dt]
                g = gateNetworks[m.rawValue]!(features).sigmoid()
            case .fixed:
                let index = modalities.firstIndex(of: m)!
                g = fixedLogits!.narrowed(axis: 0, start: index, length: 1).sigmoid()
                    .reshaped([1, 1]).expanded(to: [b, 1])
            }
            if !policies.isEmpty {
                let lo = policies.count == 1 ? Array(repeating: policies[0].minimum[m] ?? 0, count: b)
                                             : policies.map { $0.minimum[m] ?? 0 }
                let hi = policies.count == 1 ? Array(repeating: policies[0].maximum[m] ?? 1, count: b)
                                             : policies.map { $0.maximum[m] ?? 1 }
                g = Tensor.minimum(Tensor.maximum(g, Tensor(lo, shape: [b, 1])), Tensor(hi, shape: [b, 1]))
            }
            g = g * s.isPresent.converted(to: .float32).reshaped([b, 1])   // missing → 0
            columns.append(g)
            out[m] = ModalityTokens(tokens: s.tokens * g.unsqueezed(axis: -1), mask: s.mask).zeroingPadding()
        }
        return RoutedModalities(streams: out, gates: Tensor.concatenated(columns, axis: 1), modalities: given)
    }

    public override var summary: String { "DynamicAttentionRouter(\(kind.rawValue), \(modalities.map(\.rawValue).joined(separator: ", ")))" }
}
