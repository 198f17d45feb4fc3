import COmniKernels

/// How a loss turns per-element losses into its result.
public enum Reduction: Sendable, Hashable {
    /// The per-element losses, unreduced.
    case none
    /// Their mean (for ``Tensor/crossEntropy(logits:targets:ignoreIndex:labelSmoothing:reduction:)``,
    /// over the targets that are not ignored).
    case mean
    /// Their sum.
    case sum
    /// Their sum divided by the batch size (axis 0): the KL divergence per sample. Only for
    /// ``Tensor/klDivergence(input:target:logTarget:reduction:)``.
    case batchMean
}

// Losses are composites of differentiable ops, so they need no gradient rules of their own.
extension Tensor {
    /// Applies `reduction` to per-element losses; `.batchMean` only where `allowsBatchMean`.
    static func reduced(_ loss: Tensor, _ reduction: Reduction, op: String, allowsBatchMean: Bool = false) -> Tensor {
        switch reduction {
        case .none: return loss
        case .sum: return loss.sum()
        case .mean: return loss.mean()
        case .batchMean:
            check(allowsBatchMean, op, "reduction .batchMean applies only to klDivergence; use .mean, .sum or .none")
            return loss.rank == 0 ? loss.sum() : loss.sum() * (1 / Float(loss.shape[0]))
        }
    }

    static func checkSameShape(_ a: Tensor, _ b: Tensor, _ op: String, _ names: (String, String)) {
        check(a.shape == b.shape, op, "\(names.0) of shape \(fmt(a.shape)) and \(names.1) of shape \(fmt(b.shape)) differ")
    }

    /// Cross-entropy between `logits` and integer class `targets` (PyTorch's `F.cross_entropy`).
    ///
    /// `logits` is [N, C] or [N, C, d₁, …] with the class axis 1 (or [C] with a scalar target);
    /// `targets` holds class indices (any integer dtype) of shape [N, d₁, …]. Targets equal to
    /// `ignoreIndex` contribute 0 and are left out of the mean, so `.mean` divides by the number of
    /// targets that are not ignored (NaN when every target is ignored, as in PyTorch). Label smoothing
    /// ε mixes in a uniform target: loss = (1 − ε)·(−log pₜ) + ε/C·Σ꜀(−log p꜀).
    ///
    /// ```swift
    /// // logits [B·T, vocab], targets [B·T] with padding marked -100
    /// let loss = Tensor.crossEntropy(logits: logits, targets: targets, labelSmoothing: 0.1)
    /// ```
    public static func crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex: Int = -100,
                                    labelSmoothing: Float = 0, reduction: Reduction = .mean) -> Tensor {
        let op = "crossEntropy"
        logits.requireFloat32(op)
        check(!targets.dtype.isFloatingPoint && targets.dtype != .bool, op,
              "targets must be integer class indices, got \(targets.dtype) with shape \(fmt(targets.shape))")
        check(labelSmoothing >= 0 && labelSmoothing <= 1, op, "labelSmoothing must be in [0, 1], got \(labelSmoothing)")
        check(logits.rank >= 1, op, "logits must be [N, C, …] or [C], got a scalar")
        if logits.rank == 1 {
            check(targets.rank == 0, op, "logits of shape \(fmt(logits.shape)) need a scalar target, got shape \(fmt(targets.shape))")
            let loss = crossEntropy(logits: logits.unsqueezed(axis: 0), targets: targets.reshaped([1]), ignoreIndex: ignoreIndex,
                                    labelSmoothing: labelSmoothing, reduction: reduction)
            return reduction == .none ? loss.reshaped([]) : loss
        }
        let classes = logits.shape[1]
        var targetShape = logits.shape
        targetShape.remove(at: 1)  // [N, d…]
        check(targets.shape == targetShape, op,
              "targets of shape \(fmt(targets.shape)) do not match logits of shape \(fmt(logits.shape)): expected \(fmt(targetShape)) (logits without the class axis 1)")

        // Ignored targets are marked -1 for the kernel, which gives them a loss and gradient of 0.
        let index = targets.toIntArray()
        var marked = [Int](repeating: -1, count: index.count)
        var counted = 0
        for (n, t) in index.enumerated() where t != ignoreIndex {
            check(t >= 0 && t < classes, op,
                  "target \(t) at position \(fmt(multiIndex(n, targetShape))) is out of range for \(classes) classes (valid: 0..<\(classes) or ignoreIndex \(ignoreIndex))")
            marked[n] = t
            counted += 1
        }
        // Rows of classes [R, C]: the class axis moved last, rows in the targets' order.
        var rows = logits
        if logits.rank > 2 { rows = logits.permuted([0] + Array(2..<logits.rank) + [1]) }
        let loss = rowCrossEntropy(rows.reshaped([-1, classes]), targets: marked, labelSmoothing: labelSmoothing)
            .reshaped(targetShape)                                                               // [N, d…]
        switch reduction {
        case .none: return loss
        case .sum: return loss.sum()
        case .mean: return loss.sum() * (1 / Float(counted))  // 0 · ∞ = NaN when every target is ignored
        case .batchMean: return reduced(loss, .batchMean, op: op)
        }
    }

    /// The cross-entropy of each row of `x` [R, C] against `targets` (class indices, -1 for an
    /// ignored row, whose loss is 0): one primitive with one rule. The forward pass reads each row
    /// once (max, then Σ exp and the smoothing term); the rule writes softmax − target in one pass.
    /// Composing it from log-softmax, gather and scatter instead materialises some six [R, C]
    /// tensors, which for a language model's logits (R·C of 10⁷ and more) cost more than the
    /// output layer's matmuls.
    static func rowCrossEntropy(_ x: Tensor, targets: [Int], labelSmoothing: Float) -> Tensor {
        let r = x.shape[0], c = x.shape[1]
        let xc = x.detached().contiguous()                                                       // [R, C]
        let t = Tensor(targets, shape: [r])                                                      // int64 [R]
        let loss = Tensor(uninitializedShape: [r]), stats = Tensor(uninitializedShape: [r, 2])   // (max, log Σ)
        let tp = t.rawPointer.assumingMemoryBound(to: Int64.self)
        if r > 0 { omni_cross_entropy_f32(Int64(r), Int64(c), xc.floatPointer, tp, labelSmoothing, loss.floatPointer, stats.floatPointer) }
        return record(loss, op: "crossEntropy", inputs: [x]) { g in
            let gc = g.contiguous()
            let dx = Tensor(uninitializedShape: [r, c])
            if dx.count > 0 {
                omni_cross_entropy_backward_f32(Int64(r), Int64(c), xc.floatPointer, t.rawPointer.assumingMemoryBound(to: Int64.self),
                                                labelSmoothing, stats.floatPointer, gc.floatPointer, dx.floatPointer)
            }
            return [dx]
        }
    }

    /// Mean squared error, `(input − target)²` elementwise (PyTorch's `F.mse_loss`).
    ///
    /// ```swift
    /// let loss = Tensor.mseLoss(input: prediction, target: y)
    /// ```
    public static func mseLoss(input: Tensor, target: Tensor, reduction: Reduction = .mean) -> Tensor {
        input.requireFloat32("mseLoss"); target.requireFloat32("mseLoss")
        checkSameShape(input, target, "mseLoss", ("input", "target"))
        return reduced((input - target).square(), reduction, op: "mseLoss")
    }

    /// Mean absolute error, `|input − target|` elementwise (PyTorch's `F.l1_loss`; gradient 0 where
    /// they are equal).
    public static func l1Loss(input: Tensor, target: Tensor, reduction: Reduction = .mean) -> Tensor {
        input.requireFloat32("l1Loss"); target.requireFloat32("l1Loss")
        checkSameShape(input, target, "l1Loss", ("input", "target"))
        return reduced((input - target).abs(), reduction, op: "l1Loss")
    }

    /// Smooth L1 (Huber-like) loss (PyTorch's `F.smooth_l1_loss`): with d = input − target,
    /// 0.5·d²/β where |d| < β and |d| − 0.5·β elsewhere; β = 0 is the L1 loss.
    public static func smoothL1Loss(input: Tensor, target: Tensor, beta: Float = 1, reduction: Reduction = .mean) -> Tensor {
        input.requireFloat32("smoothL1Loss"); target.requireFloat32("smoothL1Loss")
        checkSameShape(input, target, "smoothL1Loss", ("input", "target"))
        check(beta >= 0, "smoothL1Loss", "beta must be non-negative, got \(beta)")
        let diff = input - target
        let absDiff = diff.abs()
        // β = 0 is handled apart: the unused quadratic branch would be d²/0, whose gradient is NaN.
        if beta == 0 { return reduced(absDiff, reduction, op: "smoothL1Loss") }
        let quadratic = diff.square() * (0.5 / beta)
        let linear = absDiff - 0.5 * beta
        return reduced(Tensor.where(absDiff.compared(.less, beta), quadratic, linear), reduction, op: "smoothL1Loss")
    }

    /// Binary cross-entropy on logits (PyTorch's `F.binary_cross_entropy_with_logits`), in the
    /// stable form `(1 − y)·x + (1 + (w − 1)·y)·softplus(−x)` that never takes log(sigmoid(x)).
    ///
    /// `targets` (probabilities in [0, 1]) has the logits' shape; `posWeight` scales the positive
    /// term and broadcasts against the logits (typically one weight per class, shape [C]).
    /// Gradients reach the logits, the targets and `posWeight`.
    ///
    /// ```swift
    /// let loss = Tensor.binaryCrossEntropyWithLogits(logits: scores, targets: labels)
    /// ```
    public static func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, posWeight: Tensor? = nil,
                                                    reduction: Reduction = .mean) -> Tensor {
        let op = "binaryCrossEntropyWithLogits"
        logits.requireFloat32(op); targets.requireFloat32(op)
        checkSameShape(logits, targets, op, ("logits", "targets"))
        let softplusNeg = (-logits).softplus()  // log(1 + e^−x), stable for either sign
        var loss: Tensor
        if let posWeight {
            posWeight.requireFloat32(op)
            check(broadcasts(posWeight.shape, to: logits.shape), op,
                  "posWeight of shape \(fmt(posWeight.shape)) does not broadcast to logits of shape \(fmt(logits.shape))")
            loss = (1 - targets) * logits + (1 + (posWeight - 1) * targets) * softplusNeg
        } else {
            loss = (1 - targets) * logits + softplusNeg
        }
        return reduced(loss, reduction, op: op)
    }

    /// Kullback–Leibler divergence KL(target ‖ input) with `input` given as log-probabilities
    /// (PyTorch's `F.kl_div`): pointwise `target·(log target − input)`, with 0·log 0 = 0, or, when
    /// `logTarget` is true, `exp(target)·(target − input)`.
    ///
    /// `.batchMean` divides the sum by the batch size and gives the true KL divergence per sample;
    /// `.mean` (the default, as in PyTorch) divides by the number of elements.
    ///
    /// ```swift
    /// let kl = Tensor.klDivergence(input: student.logSoftmax(axis: -1), target: teacherProbs,
    ///                              reduction: .batchMean)
    /// ```
    public static func klDivergence(input: Tensor, target: Tensor, logTarget: Bool = false,
                                    reduction: Reduction = .mean) -> Tensor {
        let op = "klDivergence"
        input.requireFloat32(op); target.requireFloat32(op)
        checkSameShape(input, target, op, ("input", "target"))
        let pointwise: Tensor
        if logTarget {
            pointwise = target.exp() * (target - input)
        } else {
            // t·log t with the log taken at 1 where t = 0: value 0 and no gradient from this term
            // there (like torch.xlogy), so the target's gradient at 0 is −input rather than −∞.
            let safe = Tensor.where(target.compared(.equal, 0), Tensor(1), target)
            pointwise = target * safe.log() - target * input
        }
        return reduced(pointwise, reduction, op: op, allowsBatchMean: true)
    }
}

/// The multi-index of flat position `i` in C order.
func multiIndex(_ i: Int, _ shape: [Int]) -> [Int] {
    var r = [Int](repeating: 0, count: shape.count), rem = i
    for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
        r[d] = rem % shape[d]
        rem /= shape[d]
    }
    return r
}
