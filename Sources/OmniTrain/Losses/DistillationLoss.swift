// Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
// Network", §2): the student matches the teacher's softened distribution at temperature T, and
// the soft loss is multiplied by T² so its gradients keep the same magnitude as T changes.
import OmniTensor

/// Temperature-scaled distillation loss T² · KL(softmax(teacher/T) ‖ softmax(student/T)).
///
/// Logits are [..., C] (any leading shape, classes last); the KL divergence is summed over classes
/// and averaged over all leading positions (PyTorch's `reduction="batchmean"` on the flattened
/// rows). The teacher is a constant: its logits are detached.
///
/// ```swift
/// let kd = DistillationLoss(temperature: 4)
/// let loss = 0.9 * kd(student: s, teacher: t) + 0.1 * Tensor.crossEntropy(logits: s, targets: y)
/// ```
public struct DistillationLoss: Sendable, Hashable {
    /// The softening temperature T (> 0).
    public var temperature: Float

    public init(temperature: Float = 2) {
        precondition(temperature > 0 && temperature.isFinite, "DistillationLoss: temperature must be positive, got \(temperature)")
        self.temperature = temperature
    }

    /// The loss, a scalar. `student` and `teacher` are float32 logits of one shape [..., C].
    public func callAsFunction(student: Tensor, teacher: Tensor) -> Tensor {
        precondition(student.rank >= 1 && student.shape == teacher.shape,
                     "DistillationLoss: student \(student.shape) and teacher \(teacher.shape) logits must have one shape [..., C]")
        let classes = student.shape[student.rank - 1]
        let s = (student.reshaped([-1, classes]) * (1 / temperature)).logSoftmax(axis: -1)               // [N, C]
        let t = (teacher.detached().reshaped([-1, classes]) * (1 / temperature)).logSoftmax(axis: -1)    // [N, C]
        return Tensor.klDivergence(input: s, target: t, logTarget: true, reduction: .batchMean) * (temperature * temperature)
    }
}
