import OmniTensor

/// Batch normalisation over the channel axis 1 of [N, C], [N, C, L] or [N, C, H, W] — PyTorch's
/// `BatchNorm1d` / `BatchNorm2d` (keys `weight`, `bias`, and the buffers `running_mean`,
/// `running_var`, `num_batches_tracked`).
///
/// In training mode it normalises with batch statistics and updates the running ones (momentum
/// 0.1, unbiased variance, as PyTorch); in evaluation mode it uses the running statistics.
public final class BatchNorm: UnaryModule, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor?
    @ParameterInfo(key: "bias") public var bias: Tensor?
    @ParameterInfo(key: "running_mean", kind: .buffer) public var runningMean: Tensor
    @ParameterInfo(key: "running_var", kind: .buffer) public var runningVariance: Tensor
    @ParameterInfo(key: "num_batches_tracked", kind: .buffer) public var batchesTracked: Tensor
    public let channels: Int
    public let eps: Float
    /// nil: cumulative moving average (PyTorch's `momentum=None`).
    public let momentum: Float?

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true) {
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        super.init()
        self.weight = affine ? Tensor.ones([channels]) : nil
        self.bias = affine ? Tensor.zeros([channels]) : nil
        self.runningMean = Tensor.zeros([channels])
        self.runningVariance = Tensor.ones([channels])
        self.batchesTracked = Tensor([0], shape: [])
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        let stats = BatchNormStatistics(mean: runningMean, variance: runningVariance, batchesTracked: batchesTracked.toIntArray()[0])
        let (y, updated) = x.batchNorm(statistics: stats, weight: weight, bias: bias, training: isTraining, momentum: momentum, eps: eps)
        if isTraining, let updated {
            runningMean = updated.mean.detached()
            runningVariance = updated.variance.detached()
            batchesTracked = Tensor([updated.batchesTracked], shape: [])
        }
        return y
    }

    public override var summary: String { "BatchNorm(\(channels))" }
}
