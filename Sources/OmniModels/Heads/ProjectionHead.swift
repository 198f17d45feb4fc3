// Heads on top of encoders and fusion: the contrastive projection into the shared space and a
// classification head.
import OmniData
import OmniNN
import OmniTensor

/// Projects a modality's pooled tokens into the shared embedding space, L2-normalised, for
/// contrastive alignment and retrieval: `normalize(fc2(gelu(fc1(pool(x)))))`, or
/// `normalize(proj(pool(x)))` without a hidden layer.
///
/// Keys: `proj` (linear) or `fc1`, `fc2` (MLP).
public final class ProjectionHead: Module, @unchecked Sendable {
    @ModuleInfo(key: "proj") var projection: Linear?
    @ModuleInfo(key: "mlp") var mlp: MLP?
    public let inputDimension: Int
    public let outputDimension: Int

    public init(inputDimension: Int, outputDimension: Int, hiddenSize: Int? = nil, generator: Generator) {
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        super.init()
        if let hiddenSize {
            mlp = MLP(inputSize: inputDimension, hiddenSize: hiddenSize, outputSize: outputDimension, generator: generator)
            projection = nil
        } else {
            projection = Linear(inputDimension, outputDimension, generator: generator)
            mlp = nil
        }
    }

    /// Tokens → unit vectors [B, E] (masked mean over real tokens first).
    public func callAsFunction(_ x: ModalityTokens) -> Tensor { embed(x.pooled()) }

    /// Pooled features [B, D] → unit vectors [B, E].
    public func embed(_ pooled: Tensor) -> Tensor {
        precondition(pooled.rank == 2 && pooled.shape[1] == inputDimension,
                     "ProjectionHead: features \(pooled.shape) must be [B, \(inputDimension)]")
        let y = mlp.map { $0(pooled) } ?? projection!(pooled)                 // [B, E]
        return y.l2Normalized(axis: 1)
    }
}

/// Classification from pooled features: `fc(norm(x))`. Keys: `norm`, `fc`.
public final class ClassificationHead: Module, @unchecked Sendable {
    @ModuleInfo(key: "norm") var norm: LayerNorm
    @ModuleInfo(key: "fc") var fc: Linear
    public let classCount: Int

    public init(inputDimension: Int, classCount: Int, generator: Generator) {
        self.classCount = classCount
        super.init()
        norm = LayerNorm(inputDimension)
        fc = Linear(inputDimension, classCount, generator: generator)
    }

    /// [B, D] → logits [B, classes].
    public func callAsFunction(_ pooled: Tensor) -> Tensor { fc(norm(pooled)) }
}
