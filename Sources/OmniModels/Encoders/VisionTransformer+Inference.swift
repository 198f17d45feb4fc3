// Inference form of the Vision Transformer: the same computation as VisionTransformer's forward in
// evaluation mode, with every Linear layer packed for oneDNN once (weights reordered into the
// matmul's preferred layout instead of read through a transposed view, which oneDNN's brgemm
// kernel repacks on every call), q/k/v fused into one product, and each block's GELU and residual
// additions run as post-ops inside the matrix products. Activations stay [B·N, D] row-major
// between layers. It is a snapshot: pack again after changing the model's weights.
//
// Measured with `omni bench model --config vit-tiny-224` (BENCHMARKS.md).
import COmniKernels
import Foundation
import OmniNN
import OmniTensor

/// A ``VisionTransformer`` packed for fast inference (no dropout, no gradients). Same inputs and
/// outputs as the model in evaluation mode, within float rounding.
///
/// ```swift
/// let fast = vit.packedForInference()
/// let logits = fast(images)             // [B, 3, 224, 224] → [B, 1000]
/// let tokens = fast.features(images)    // [B, 197, 192]
/// ```
public struct PackedVisionTransformer: Sendable {
    struct Block: Sendable {
        let norm1: (weight: Tensor?, bias: Tensor?)
        let qkv: PackedLinear           // [D] → [3D], q, k, v stacked
        let projection: PackedLinear    // + residual
        let norm2: (weight: Tensor?, bias: Tensor?)
        let fc1: PackedLinear           // + activation
        let fc2: PackedLinear           // + residual
    }

    public let configuration: VisionTransformerConfiguration
    let patch: PackedLinear             // [C·p·p] → [D]
    let classToken: Tensor?             // [1, D], with its position added
    let model: VisionTransformer        // positions for any grid (learned, resampled, or sin-cos)
    let blocks: [Block]
    let norm: (weight: Tensor?, bias: Tensor?)
    let head: PackedLinear?

    /// Final token states: [B, C, H, W] → [B, N, D], as ``VisionTransformer/features(_:)``.
    public func features(_ images: Tensor) -> Tensor {
        GradMode.withoutGrad { encode(embed(images)) }
    }

    /// Logits [B, classCount] (or pooled features without a head), as the model's `callAsFunction`.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        GradMode.withoutGrad {
            let summary = model.pooled(features(images)).contiguous()
            return head.map { $0(summary) } ?? summary
        }
    }

    /// Tokens with positions and class token: [B, C, H, W] → [B, N, D].
    public func embed(_ images: Tensor) -> Tensor {
        GradMode.withoutGrad {
            let c = configuration
            precondition(images.rank == 4 && images.shape[1] == c.channels,
                         "PackedVisionTransformer: images must be [B, \(c.channels), H, W], got \(images.shape)")
            let (gh, gw) = c.grid(height: images.shape[2], width: images.shape[3])
            precondition(gh > 0 && gw > 0,
                         "PackedVisionTransformer: image \(images.shape[2])×\(images.shape[3]) is smaller than one \(c.patchSize)-pixel patch")
            // the convolutional stem (if any) runs as in the module; the projection is one GEMM
            var image = model.patchEmbedding.stem.reduce(images) { $1($0) }                   // [B, C', H', W']
            let (b, ch, p, d) = (image.shape[0], image.shape[1], c.projectionPatchSize, c.dimension)
            if gh * p != image.shape[2] { image = image.narrowed(axis: 2, start: 0, length: gh * p) }
            if gw * p != image.shape[3] { image = image.narrowed(axis: 3, start: 0, length: gw * p) }
            let patches = image.reshaped([b, ch, gh, p, gw, p]).permuted([0, 2, 4, 1, 3, 5])
                .reshaped([b * gh * gw, ch * p * p])                                            // [B·gh·gw, C'·p'·p']
            let tokens = (patch(patches).reshaped([b, gh * gw, d]) + model.positions(gridHeight: gh, gridWidth: gw))
            guard let classToken else { return tokens }
            return Tensor.concatenated([classToken.reshaped([1, 1, d]).expanded(to: [b, 1, d]), tokens], axis: 1)
        }
    }

    /// The blocks and the final norm: [B, N, D] → [B, N, D]; `keyPadding` as in
    /// ``VisionTransformer/encode(_:keyPadding:)``.
    public func encode(_ tokens: Tensor, keyPadding: Tensor? = nil) -> Tensor {
        GradMode.withoutGrad {
            let c = configuration
            let (b, n, d) = (tokens.shape[0], tokens.shape[1], c.dimension)
            precondition(tokens.rank == 3 && tokens.shape[2] == d, "PackedVisionTransformer: tokens \(tokens.shape) must be [B, N, \(d)]")
            let (heads, dh) = (c.heads, d / c.heads)
            var x = tokens.reshaped([b * n, d]).contiguous()                                      // [B·N, D]
            for block in blocks {
                let h = x.layerNorm(weight: block.norm1.weight, bias: block.norm1.bias, eps: c.layerNormEps)
                let qkv = block.qkv(h).reshaped([b, n, 3, heads, dh])                             // [B, N, 3, H, Dh]
                func part(_ i: Int) -> Tensor {                                                   // [B, H, N, Dh]
                    qkv.narrowed(axis: 2, start: i, length: 1).squeezed(axis: 2).transposed(1, 2)
                }
                let attended = Tensor.scaledDotProductAttention(query: part(0), key: part(1), value: part(2),
                                                                keyPadding: keyPadding).output    // [B, H, N, Dh]
                x = block.projection(attended.transposed(1, 2).reshaped([b * n, d]), residual: x)
                let h2 = x.layerNorm(weight: block.norm2.weight, bias: block.norm2.bias, eps: c.layerNormEps)
                x = block.fc2(block.fc1(h2), residual: x)
            }
            return x.layerNorm(weight: norm.weight, bias: norm.bias, eps: c.layerNormEps).reshaped([b, n, d])
        }
    }
}

extension VisionTransformer {
    /// The model packed for inference (see ``PackedVisionTransformer``): a snapshot of the current
    /// weights. `rowsHint` is the usual number of token rows per call (B·N), which can steer the
    /// weight layout oneDNN picks; other row counts work too.
    public func packedForInference(rowsHint: Int? = nil) -> PackedVisionTransformer {
        GradMode.withoutGrad {
            let c = configuration
            let g = c.nativeGrid
            let rows = rowsHint ?? (c.prefixTokenCount + g * g)
            let weight = patchEmbedding.projection.weight
            let patch = PackedLinear(weight: weight.reshaped([weight.shape[0], weight.shape[1] * weight.shape[2] * weight.shape[3]]),
                                     bias: patchEmbedding.projection.bias, rowsHint: g * g)
            let classWithPosition = classToken.flatMap { cls in classPosition().map { cls.reshaped([1, c.dimension]) + $0 } }
            let packedBlocks = blocks.map { layer -> PackedVisionTransformer.Block in
                let attention = layer.attention
                precondition(layer.placement == .pre, "packedForInference: only pre-norm blocks are packed")
                let (q, k, v) = (attention.queryProjection, attention.keyProjection, attention.valueProjection)
                let qkvBias = q.bias.map { qb in Tensor.concatenated([qb, k.bias!, v.bias!], axis: 0) }
                // q's scaling 1/√Dh is left to the attention, as in the module
                let qkv = PackedLinear(weight: Tensor.concatenated([q.weight, k.weight, v.weight], axis: 0), bias: qkvBias,
                                       rowsHint: rows)
                let norm1 = layer.norm1 as! LayerNorm, norm2 = layer.norm2 as! LayerNorm
                let mlp = layer.mlp
                precondition(!mlp.gated, "packedForInference: gated MLPs are not packed")
                let fc1 = mlp.namedChildren().first { $0.key == "fc1" }!.module as! Linear
                let fc2 = mlp.namedChildren().first { $0.key == "fc2" }!.module as! Linear
                return .init(norm1: (norm1.weight, norm1.bias),
                             qkv: qkv,
                             projection: PackedLinear(weight: attention.outputProjection.weight, bias: attention.outputProjection.bias,
                                                      residual: true, rowsHint: rows),
                             norm2: (norm2.weight, norm2.bias),
                             fc1: PackedLinear(weight: fc1.weight, bias: fc1.bias, activation: mlp.activation, rowsHint: rows),
                             fc2: PackedLinear(weight: fc2.weight, bias: fc2.bias, residual: true, rowsHint: rows))
            }
            return PackedVisionTransformer(configuration: c, patch: patch, classToken: classWithPosition, model: self,
                                           blocks: packedBlocks, norm: (norm.weight, norm.bias),
                                           head: head.map { PackedLinear(weight: $0.weight, bias: $0.bias, rowsHint: 1) })
        }
    }
}

// MARK: - Packed linear layers

/// A Linear layer whose weights oneDNN reordered once, with an optional activation and residual
/// addition fused into the product: `act(x · Wᵀ + b) (+ residual)`. Inference only.
final class PackedLinear: @unchecked Sendable {
    let handle: OpaquePointer
    let inputSize: Int
    let outputSize: Int
    let addsResidual: Bool

    /// - Parameters: weight [out, in], bias [out].
    init(weight: Tensor, bias: Tensor?, activation: Activation? = nil, residual: Bool = false, rowsHint: Int) {
        precondition(weight.rank == 2 && weight.dtype == .float32, "PackedLinear: weight must be float32 [out, in], got \(weight.shape)")
        outputSize = weight.shape[0]
        inputSize = weight.shape[1]
        addsResidual = residual
        let code: Int32
        switch activation {
        case nil: code = Int32(OMNI_LINEAR_IDENTITY)
        case .relu: code = Int32(OMNI_LINEAR_RELU)
        case .gelu: code = Int32(OMNI_LINEAR_GELU_ERF)
        case .geluTanh: code = Int32(OMNI_LINEAR_GELU_TANH)
        case .silu: code = Int32(OMNI_LINEAR_SILU)
        case .tanh: code = Int32(OMNI_LINEAR_TANH)
        case .sigmoid: code = Int32(OMNI_LINEAR_SIGMOID)
        }
        let (n, k) = (outputSize, inputSize)
        let handle = weight.withUnsafeBytes { w in
            (bias ?? Tensor.zeros([0])).withUnsafeBytes { b in
                omni_linear_pack(Int64(n), Int64(k), w.baseAddress!.assumingMemoryBound(to: Float.self),
                                 bias == nil ? nil : b.baseAddress!.assumingMemoryBound(to: Float.self),
                                 code, residual ? 1 : 0, Int64(Swift.max(rowsHint, 1)))
            }
        }
        guard let handle else {
            preconditionFailure("PackedLinear: \(String(cString: omni_dnnl_last_error())) packing weight \(weight.shape)")
        }
        self.handle = handle
    }

    deinit { omni_linear_packed_free(handle) }

    /// x [M, in] → [M, out] (plus `residual` [M, out] when packed with one).
    func callAsFunction(_ x: Tensor, residual: Tensor? = nil) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inputSize, "PackedLinear: input \(x.shape) must be [M, \(inputSize)]")
        precondition((residual != nil) == addsResidual, "PackedLinear: residual \(residual == nil ? "missing" : "not expected")")
        let m = x.shape[0]
        if let residual { precondition(residual.shape == [m, outputSize], "PackedLinear: residual \(residual.shape) must be [\(m), \(outputSize)]") }
        let out = StorageBuffer(count: m * outputSize)
        let rc = x.withUnsafeBytes { xp in
            (residual ?? x).withUnsafeBytes { rp in
                omni_linear_packed_forward(handle, Int64(m), xp.baseAddress!.assumingMemoryBound(to: Float.self),
                                           residual == nil ? nil : rp.baseAddress!.assumingMemoryBound(to: Float.self),
                                           out.pointer.assumingMemoryBound(to: Float.self))
            }
        }
        precondition(rc == 0, "PackedLinear: \(String(cString: omni_dnnl_last_error())) for input \(x.shape)")
        return Tensor(borrowing: out.pointer, shape: [m, outputSize], dtype: .float32, owner: out)
    }
}

/// Output memory from Omni's storage allocator (large blocks are recycled, so repeated inference
/// does not fault fresh pages in), owned by the tensor that wraps it.
final class StorageBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let bytes: Int

    init(count: Int) {
        bytes = Swift.max(count, 1) * MemoryLayout<Float>.stride
        guard let p = omni_storage_alloc(bytes) else { preconditionFailure("StorageBuffer: cannot allocate \(bytes) bytes") }
        pointer = p
    }

    deinit { omni_storage_free(pointer, bytes) }
}
