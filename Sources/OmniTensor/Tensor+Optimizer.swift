import COmniKernels
import Foundation

/// Fused optimizer updates on float32 tensors: one pass over parameter, gradient and state,
/// returning new tensors (tensors are immutable). `OmniOptim`'s optimizers are built on these.
public enum OptimizerKernels {
    /// One Adam (`decoupled: false`) or AdamW (`decoupled: true`) step with PyTorch's semantics.
    /// `step` is the 1-based step count used for bias correction.
    public static func adam(parameter p: Tensor, gradient g: Tensor, firstMoment m: Tensor, secondMoment v: Tensor,
                            learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
                            step: Int, decoupled: Bool) -> (parameter: Tensor, firstMoment: Tensor, secondMoment: Tensor) {
        for (name, t) in [("gradient", g), ("first moment", m), ("second moment", v)] {
            check(t.shape == p.shape && t.dtype == .float32, "adam", "\(name) \(t.dtype) \(fmt(t.shape)) does not match parameter \(fmt(p.shape))")
        }
        check(p.dtype == .float32 && step >= 1, "adam", "needs a float32 parameter and step ≥ 1")
        let (pc, gc, mc, vc) = (p.contiguous(), g.contiguous(), m.contiguous(), v.contiguous())
        let po = Tensor(uninitializedShape: p.shape), mo = Tensor(uninitializedShape: p.shape), vo = Tensor(uninitializedShape: p.shape)
        let bc1 = Float(1 - Foundation.pow(Double(beta1), Double(step))), bc2 = Float(1 - Foundation.pow(Double(beta2), Double(step)))
        omni_adam_f32(Int64(p.count), pc.floatPointer, gc.floatPointer, mc.floatPointer, vc.floatPointer,
                      learningRate, beta1, beta2, epsilon, weightDecay, bc1, bc2, decoupled ? 1 : 0,
                      po.floatPointer, mo.floatPointer, vo.floatPointer)
        return (po, mo, vo)
    }

    /// One SGD step with PyTorch's semantics; `buffer` is the momentum buffer (nil on the first
    /// step or without momentum). Returns the new parameter and momentum buffer (nil without momentum).
    public static func sgd(parameter p: Tensor, gradient g: Tensor, buffer: Tensor?, learningRate: Float, momentum: Float,
                           dampening: Float, weightDecay: Float, nesterov: Bool) -> (parameter: Tensor, buffer: Tensor?) {
        check(g.shape == p.shape && p.dtype == .float32 && g.dtype == .float32, "sgd",
              "gradient \(g.dtype) \(fmt(g.shape)) does not match parameter \(p.dtype) \(fmt(p.shape))")
        if let buffer { check(buffer.shape == p.shape, "sgd", "momentum buffer \(fmt(buffer.shape)) does not match \(fmt(p.shape))") }
        let (pc, gc) = (p.contiguous(), g.contiguous())
        let bc = buffer?.contiguous()
        let po = Tensor(uninitializedShape: p.shape)
        let bo = momentum != 0 ? Tensor(uninitializedShape: p.shape) : nil
        omni_sgd_f32(Int64(p.count), pc.floatPointer, gc.floatPointer, bc.map { UnsafePointer($0.floatPointer) },
                     learningRate, momentum, dampening, weightDecay, nesterov ? 1 : 0, bc == nil ? 1 : 0,
                     po.floatPointer, bo?.floatPointer)
        return (po, bo)
    }

    /// Σ x² over all elements, accumulated in Double.
    public static func sumOfSquares(_ x: Tensor) -> Double {
        x.requireFloat32("sumOfSquares")
        let c = x.contiguous()
        return omni_sum_squares_f32(Int64(c.count), c.floatPointer)
    }
}

