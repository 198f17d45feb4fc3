// Inference form of MobileNetV2: every BatchNorm folded into the convolution before it, and the
// convolutions run the way oneDNN runs them fastest.
//
// In eval mode BN is the affine map y = (x − μ)·γ/√(σ² + ε) + β per channel, so after a bias-free
// convolution it can be absorbed: w' = w·s, b' = β − μ·s with s = γ/√(σ² + ε). The folded network
// runs one fused oneDNN convolution per layer (bias, ReLU6 and the residual addition as post-ops)
// on channels-last activations with weights reordered once into oneDNN's layout: on plain NCHW
// with OIHW weights oneDNN 2.6 falls back to im2col + GEMM (a GEMM per channel for the depthwise
// convolutions), about 7× slower here for this network. It is a snapshot: fold again after
// changing the model's weights.
import COmniKernels
import Foundation
import OmniNN
import OmniTensor

/// A ``MobileNetV2`` with its BatchNorms folded into its convolutions, for inference only (no
/// dropout, no gradients, running statistics baked in). Same inputs and outputs as the model.
///
/// The convolutions run on oneDNN with channels-last (NHWC) activations, weights reordered once
/// into oneDNN's preferred layout, and ReLU6 and the residual additions fused into them: oneDNN's
/// fast kernels need those layouts (on plain NCHW it falls back to im2col + GEMM). Packed
/// weights are made per input size on first use and kept.
///
/// ```swift
/// let fast = try MobileNetV2.pretrained(contentsOf: url).folded()
/// let logits = fast(x)                  // [B, 3, 224, 224] -> [B, 1000]
/// let grid = fast.featureMap(x)         // [B, 1280, 7, 7]
/// ```
public struct FoldedMobileNetV2: Sendable {
    /// One convolution with its folded bias and whether ReLU6 follows.
    public struct Convolution: Sendable {
        public let weight: Tensor   // [O, C/groups, K, K]
        public let bias: Tensor     // [O]
        public let stride: Int
        public let padding: Int
        public let groups: Int
        public let clampsToSix: Bool
        let packs = PackedConvolutions()

        /// NHWC [B, H, W, C] → NHWC [B, H / s, W / s, O], plus `residual` (NHWC, the output's
        /// shape) when given.
        func callAsFunction(_ x: Tensor, adding residual: Tensor? = nil) -> Tensor {
            let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let (o, k) = (weight.shape[0], weight.shape[2])
            precondition(c == weight.shape[1] * groups, "FoldedMobileNetV2: input \(x.shape) does not fit weight \(weight.shape)")
            let (oh, ow) = ((h + 2 * padding - k) / stride + 1, (w + 2 * padding - k) / stride + 1)
            let shape = omni_conv2d_shape(
                n: Int64(n), c: Int64(c), h: Int64(h), w: Int64(w), oc: Int64(o), kh: Int64(k), kw: Int64(k),
                oh: Int64(oh), ow: Int64(ow), groups: Int64(groups), stride_h: Int64(stride), stride_w: Int64(stride),
                pad_h: Int64(padding), pad_w: Int64(padding), dil_h: 1, dil_w: 1)
            let packed = packs.packed(for: shape, weight: weight, bias: bias, clampsToSix: clampsToSix,
                                      addsResidual: residual != nil)
            let out = ActivationBuffer(count: n * oh * ow * o)
            let rc = x.contiguous().withUnsafeBytes { xp in
                (residual ?? x).contiguous().withUnsafeBytes { rp in
                    omni_conv2d_packed_forward(packed.handle, Int64(n), xp.baseAddress!.assumingMemoryBound(to: Float.self),
                                               residual == nil ? nil : rp.baseAddress!.assumingMemoryBound(to: Float.self),
                                               out.pointer.assumingMemoryBound(to: Float.self))
                }
            }
            precondition(rc == 0, "FoldedMobileNetV2: \(String(cString: omni_dnnl_last_error())) for input \(x.shape), weight \(weight.shape)")
            return Tensor(borrowing: out.pointer, shape: [n, oh, ow, o], dtype: .float32, owner: out)  // [B, H/s, W/s, O]
        }
    }

    /// A stem/last conv (one layer) or an inverted residual block (two or three layers).
    public struct Block: Sendable {
        public let layers: [Convolution]
        public let isResidual: Bool

        /// NHWC → NHWC.
        func callAsFunction(_ x: Tensor) -> Tensor {
            var h = x
            for (i, layer) in layers.enumerated() {
                h = layer(h, adding: isResidual && i == layers.count - 1 ? x : nil)
            }
            return h
        }
    }

    public let blocks: [Block]
    public let classifierWeight: Tensor  // [classes, 1280]
    public let classifierBias: Tensor    // [classes]
    /// How many images of a batch go through the trunk together; nil: ``Threads/count``.
    ///
    /// Whole large batches are slower per image than small ones here: the activations of a
    /// batch of 8 (up to 38 MB a layer at 224 px) leave the caches and are fresh memory each
    /// time. On one thread, batch 8 in micro-batches of 1 or 2 ran 1.6–1.8× faster than in one
    /// piece; a micro-batch per thread keeps every thread busy. Results do not depend on it.
    public var microBatchSize: Int? = nil

    /// The trunk in channels-last order: [B, 3, H, W] → [B, ⌈H/32⌉, ⌈W/32⌉, lastChannels], dense.
    public func channelsLastFeatureMap(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "FoldedMobileNetV2: input must be [B, 3, H, W], got \(x.shape)")
        return GradMode.withoutGrad {
            let chunk = Swift.max(microBatchSize ?? Threads.count, 1)
            let parts = stride(from: 0, to: x.shape[0], by: Swift.max(chunk, 1)).map { start in
                let part = x.narrowed(axis: 0, start: start, length: Swift.min(chunk, x.shape[0] - start))  // [b, 3, H, W]
                let input = part.converted(to: .float32).permuted([0, 2, 3, 1]).contiguous()  // [b, H, W, 3]
                return blocks.reduce(input) { h, block in block(h) }
            }
            return parts.count == 1 ? parts[0] : Tensor.concatenated(parts, axis: 0)
        }
    }

    /// [B, 3, H, W] → [B, lastChannels, ⌈H/32⌉, ⌈W/32⌉], as ``MobileNetV2/featureMap(_:)``: a
    /// channels-last view of ``channelsLastFeatureMap(_:)`` (call `contiguous()` for NCHW memory).
    public func featureMap(_ x: Tensor) -> Tensor {
        channelsLastFeatureMap(x).permuted([0, 3, 1, 2])
    }

    /// Logits: [B, 3, H, W] → [B, classCount].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        GradMode.withoutGrad {
            let pooled = channelsLastFeatureMap(x).mean(axes: [1, 2])  // [B, 1280]
            return pooled.linear(weight: classifierWeight, bias: classifierBias)
        }
    }
}

/// A buffer the packed convolutions write into, then owned by the tensor that wraps it.
final class ActivationBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(count: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    }

    deinit { pointer.deallocate() }
}

/// One convolution's oneDNN packs, one per input size (batch sizes share one; see dnnl_glue.c).
/// At most `capacity` sizes are kept, the least recently used evicted (a pack in use stays alive
/// with its caller).
final class PackedConvolutions: @unchecked Sendable {
    final class Pack: @unchecked Sendable {
        let handle: OpaquePointer
        var lastUse = 0
        init(_ handle: OpaquePointer) { self.handle = handle }
        deinit { omni_conv2d_packed_free(handle) }
    }

    static let capacity = 8
    private let lock = NSLock()
    private var packs: [[Int64]: Pack] = [:]
    private var uses = 0

    func packed(for shape: omni_conv2d_shape, weight: Tensor, bias: Tensor, clampsToSix: Bool, addsResidual: Bool) -> Pack {
        let key = [shape.c, shape.h, shape.w, addsResidual ? 1 : 0]
        lock.lock(); defer { lock.unlock() }
        uses += 1
        if let pack = packs[key] { pack.lastUse = uses; return pack }
        var s = shape
        let handle = weight.withUnsafeBytes { w in
            bias.withUnsafeBytes { b in
                omni_conv2d_pack(&s, w.baseAddress!.assumingMemoryBound(to: Float.self),
                                 b.baseAddress!.assumingMemoryBound(to: Float.self), clampsToSix ? 1 : 0, 0, 6,
                                 addsResidual ? 1 : 0)
            }
        }
        guard let handle else {
            preconditionFailure("FoldedMobileNetV2: \(String(cString: omni_dnnl_last_error())) packing weight \(weight.shape)")
        }
        if packs.count >= PackedConvolutions.capacity, let oldest = packs.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            packs[oldest.key] = nil
        }
        let pack = Pack(handle)
        pack.lastUse = uses
        packs[key] = pack
        return pack
    }

    /// Number of input sizes packed (for tests).
    var count: Int { lock.lock(); defer { lock.unlock() }; return packs.count }
}

extension MobileNetV2 {
    /// The model with BatchNorm folded into the convolutions (see ``FoldedMobileNetV2``): a
    /// snapshot of the current weights and running statistics.
    public func folded() -> FoldedMobileNetV2 {
        GradMode.withoutGrad {
            let blocks = features.map { layer -> FoldedMobileNetV2.Block in
                switch layer {
                case let c as ConvNormActivation:
                    return .init(layers: [MobileNetV2.fold(c.conv, c.norm, clampsToSix: c.activates)], isResidual: false)
                case let b as InvertedResidual:
                    var layers = b.expansion.map { [MobileNetV2.fold($0.conv, $0.norm, clampsToSix: $0.activates)] } ?? []
                    layers.append(MobileNetV2.fold(b.depthwise.conv, b.depthwise.norm, clampsToSix: b.depthwise.activates))
                    layers.append(MobileNetV2.fold(b.projection, b.projectionNorm, clampsToSix: false))
                    return .init(layers: layers, isResidual: b.isResidual)
                default:
                    preconditionFailure("MobileNetV2.folded: unexpected layer \(type(of: layer)) in features")
                }
            }
            return FoldedMobileNetV2(blocks: blocks, classifierWeight: head.weight.detached(),
                                     classifierBias: head.bias?.detached() ?? Tensor.zeros([configuration.classCount]))
        }
    }

    /// w' = w·s, b' = β − μ·s (+ the conv's own bias·s), s = γ / √(σ² + ε), per output channel.
    static func fold(_ conv: Conv2d, _ norm: BatchNorm, clampsToSix: Bool) -> FoldedMobileNetV2.Convolution {
        precondition(conv.stride.height == conv.stride.width && conv.padding.height == conv.padding.width
                     && conv.dilation == IntOrPair(1),
                     "MobileNetV2.fold: only square strides and paddings without dilation are folded")
        let o = conv.weight.shape[0]
        let gamma = norm.weight ?? Tensor.ones([o]), beta = norm.bias ?? Tensor.zeros([o])
        let scale = (norm.runningVariance + norm.eps).rsqrt() * gamma  // [O]
        var bias = beta - norm.runningMean * scale
        if let b = conv.bias { bias = bias + b * scale }
        let weight = (conv.weight * scale.reshaped([o, 1, 1, 1])).contiguous()  // [O, C/g, K, K]
        return .init(weight: weight.detached(), bias: bias.detached(), stride: conv.stride.height,
                     padding: conv.padding.height, groups: conv.groups,
                     clampsToSix: clampsToSix)
    }
}
