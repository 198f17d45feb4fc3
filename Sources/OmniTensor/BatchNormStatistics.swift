/// The running statistics of batch normalisation (PyTorch's `running_mean`, `running_var` and
/// `num_batches_tracked` buffers).
///
/// Tensors are values, so ``Tensor/batchNorm(statistics:weight:bias:training:momentum:eps:)``
/// does not update these in place: in training mode it returns the updated statistics next to
/// its output, and the caller keeps them.
///
/// ```swift
/// var stats = BatchNormStatistics(channels: 64)
/// let (y, updated) = x.batchNorm(statistics: stats, weight: gamma, bias: beta, training: true)
/// stats = updated!
/// ```
public struct BatchNormStatistics: Sendable {
    /// Running mean per channel, `[C]`.
    public var mean: Tensor
    /// Running variance per channel (unbiased batch variances folded in), `[C]`.
    public var variance: Tensor
    /// Number of training batches folded in; sets the averaging factor when momentum is nil.
    public var batchesTracked: Int

    /// Fresh statistics: mean 0, variance 1, as PyTorch initialises them.
    public init(channels: Int) {
        check(channels >= 0, "BatchNormStatistics", "channel count must not be negative, got \(channels)")
        self.init(mean: Tensor.zeros([channels]), variance: Tensor.ones([channels]))
    }

    /// Statistics from existing values (for example loaded from a checkpoint).
    public init(mean: Tensor, variance: Tensor, batchesTracked: Int = 0) {
        check(mean.rank == 1 && variance.shape == mean.shape, "BatchNormStatistics",
              "mean \(fmt(mean.shape)) and variance \(fmt(variance.shape)) must both be [C]")
        mean.requireFloat32("BatchNormStatistics"); variance.requireFloat32("BatchNormStatistics")
        self.mean = mean.detached()
        self.variance = variance.detached()
        self.batchesTracked = batchesTracked
    }

    /// Number of channels.
    public var channels: Int { mean.shape[0] }
}
