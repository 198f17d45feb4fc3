import OmniNN
import OmniTensor

/// Per-parameter hyper-parameters: which parameters a group covers and how they are trained.
///
/// The default grouping (``ParameterGroup/defaults(weightDecay:)``) applies weight decay to
/// matrices and kernels (rank ≥ 2) and none to biases, norm weights and other vectors — the usual
/// rule (nanoGPT, timm) that keeps decay off parameters where it only hurts.
public struct ParameterGroup: Sendable {
    /// Decides whether a parameter (dotted path, tensor) belongs to this group.
    public var matches: @Sendable (String, Tensor) -> Bool
    /// Weight decay for this group.
    public var weightDecay: Float
    /// Multiplies the optimizer's learning rate for this group.
    public var learningRateScale: Float

    public init(weightDecay: Float, learningRateScale: Float = 1, matches: @escaping @Sendable (String, Tensor) -> Bool) {
        self.matches = matches
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
    }

    /// Parameters whose dotted path matches a glob (`*` any run, `?` one character).
    public static func matching(_ pattern: String, weightDecay: Float, learningRateScale: Float = 1) -> ParameterGroup {
        ParameterGroup(weightDecay: weightDecay, learningRateScale: learningRateScale) { path, _ in Module.pathMatches(path, pattern: pattern) }
    }

    /// Decay on rank ≥ 2 tensors, none on biases and norm parameters (rank ≤ 1).
    public static func defaults(weightDecay: Float) -> [ParameterGroup] {
        [ParameterGroup(weightDecay: weightDecay) { _, t in t.rank >= 2 },
         ParameterGroup(weightDecay: 0) { _, _ in true }]
    }
}

extension Array where Element == ParameterGroup {
    /// The first group that claims the parameter (a parameter no group claims gets no decay, scale 1).
    func group(for path: String, _ t: Tensor) -> (weightDecay: Float, scale: Float) {
        for g in self where g.matches(path, t) { return (g.weightDecay, g.learningRateScale) }
        return (0, 1)
    }
}
