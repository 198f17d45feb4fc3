

extension Tensor {
    /// Each slice along `axis` divided by its Euclidean norm, or by `epsilon` where the norm is
    /// smaller (PyTorch's `F.normalize(x, dim: axis, eps: epsilon)`): a zero vector stays zero.
    ///
    /// Computed as x · rsqrt(max(Σx², ε²)), so the gradient stays finite at a zero vector.
    ///
    /// ```swift
    /// let e = projected.l2Normalized(axis: -1)   // [B, E], rows of unit length
    /// ```
    public func l2Normalized(axis: Int = -1, epsilon: Float = 1e-12) -> Tensor {
        precondition(epsilon > 0, "l2Normalized: epsilon must be positive, got \(epsilon)")
        return self * square().sum(axis: axis, keepDims: true).clamped(min: epsilon * epsilon).rsqrt()
    }
}
