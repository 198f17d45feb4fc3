// Co-attention: bidirectional cross-attention between modality streams, stacked. Every stream
// attends to the tokens of all the other streams at once, so information flows both ways in each
// block (ViLBERT's co-attention generalised to any number of modalities).
import OmniData
import OmniNN
import OmniTensor

/// Where each modality's keys sit in a co-attention map's key axis.
public struct KeySegment: Sendable, Equatable {
    public let modality: Modality
    public let range: Range<Int>
}

/// One stream's attention over the other streams in one block.
public struct CoAttentionMap: @unchecked Sendable {
    /// Weights [B, H, Nq, Nk]: queries are this stream's tokens, keys the others' (``segments``).
    public let weights: Tensor
    public let segments: [KeySegment]
}

/// What ``CoAttention`` returns.
public struct CoAttentionOutput: @unchecked Sendable {
    public var streams: [Modality: ModalityTokens]
    /// Per block, per query modality (only when requested).
    public var maps: [[Modality: CoAttentionMap]]
}

/// One modality's half of a co-attention block (pre-norm):
/// `x ← x + CrossAttn(LN(x), LN(others)); x ← x + MLP(LN(x))`.
/// Keys: `norm_q`, `norm_kv`, `cross_attn`, `norm_mlp`, `mlp`.
public final class CoAttentionStream: Module, @unchecked Sendable {
    @ModuleInfo(key: "norm_q") var queryNorm: LayerNorm
    @ModuleInfo(key: "norm_kv") var contextNorm: LayerNorm
    @ModuleInfo(key: "cross_attn") var attention: MultiHeadAttention
    @ModuleInfo(key: "norm_mlp") var mlpNorm: LayerNorm
    @ModuleInfo(key: "mlp") var mlp: MLP

    public init(dimension: Int, heads: Int, mlpHiddenSize: Int, dropout: Float = 0, generator: Generator) {
        super.init()
        queryNorm = LayerNorm(dimension)
        contextNorm = LayerNorm(dimension)
        attention = MultiHeadAttention(dimension: dimension, heads: heads, dropout: dropout, generator: generator)
        mlpNorm = LayerNorm(dimension)
        mlp = MLP(inputSize: dimension, hiddenSize: mlpHiddenSize, activation: .gelu, generator: generator)
    }

    /// x [B, Nq, D], context [B, Nk, D] with keyPadding bool [B, Nk] → [B, Nq, D] (+ weights).
    func callAsFunction(_ x: Tensor, context: Tensor?, keyPadding: Tensor?, returnWeights: Bool) -> AttentionResult {
        var h = x
        var weights: Tensor? = nil
        if let context {
            let a = attention(queryNorm(h), context: contextNorm(context), keyPadding: keyPadding, returnWeights: returnWeights)
            h = h + a.output
            weights = a.weights
        }
        return AttentionResult(output: h + mlp(mlpNorm(h)), weights: weights)
    }
}

/// One block: a ``CoAttentionStream`` per modality, all reading the previous block's states.
/// Keys: `streams.<modality>`.
public final class CoAttentionBlock: Module, @unchecked Sendable {
    @ModuleInfo(key: "streams") var streamModules: [String: CoAttentionStream]

    public init(modalities: [Modality], dimension: Int, heads: Int, mlpHiddenSize: Int, dropout: Float = 0,
                generator: Generator) {
        super.init()
        var s: [String: CoAttentionStream] = [:]
        for m in Set(modalities).sorted() {
            s[m.rawValue] = CoAttentionStream(dimension: dimension, heads: heads, mlpHiddenSize: mlpHiddenSize,
                                              dropout: dropout, generator: generator)
        }
        streamModules = s
    }

    func callAsFunction(_ streams: [Modality: ModalityTokens], returnWeights: Bool)
        -> (streams: [Modality: ModalityTokens], maps: [Modality: CoAttentionMap]) {
        let given = streams.keys.sorted()
        var next: [Modality: ModalityTokens] = [:]
        var maps: [Modality: CoAttentionMap] = [:]
        for m in given {
            guard let block = streamModules[m.rawValue] else {
                preconditionFailure("CoAttention: no stream for modality \(m.rawValue); configured: \(streamModules.keys.sorted())")
            }
            let others = given.filter { $0 != m }
            var context: Tensor? = nil, padding: Tensor? = nil
            var segments: [KeySegment] = []
            if !others.isEmpty {
                context = Tensor.concatenated(others.map { streams[$0]!.tokens }, axis: 1)   // [B, ΣN, D]
                padding = Tensor.concatenated(others.map { streams[$0]!.mask }, axis: 1)     // [B, ΣN]
                var start = 0
                for o in others {
                    segments.append(KeySegment(modality: o, range: start..<(start + streams[o]!.length)))
                    start += streams[o]!.length
                }
            }
            let s = streams[m]!
            let r = block(s.tokens, context: context, keyPadding: padding, returnWeights: returnWeights)
            next[m] = ModalityTokens(tokens: r.output, mask: s.mask).zeroingPadding()
            if returnWeights, let w = r.weights { maps[m] = CoAttentionMap(weights: w, segments: segments) }
        }
        return (next, maps)
    }
}

/// A stack of ``CoAttentionBlock``s. Padded tokens stay exactly zero between blocks, so a sample's
/// outputs do not depend on how much padding its batch has, and a sample missing a modality
/// contributes no keys for it.
///
/// Keys: `layers.<i>.streams.<modality>.…`.
public final class CoAttention: Module, @unchecked Sendable {
    @ModuleInfo(key: "layers") var blocks: [CoAttentionBlock]
    public let modalities: [Modality]

    public init(modalities: [Modality], dimension: Int, heads: Int, depth: Int, mlpHiddenSize: Int? = nil,
                dropout: Float = 0, generator: Generator) {
        self.modalities = Set(modalities).sorted()
        super.init()
        blocks = (0..<depth).map { _ in
            CoAttentionBlock(modalities: modalities, dimension: dimension, heads: heads,
                             mlpHiddenSize: mlpHiddenSize ?? 4 * dimension, dropout: dropout, generator: generator)
        }
    }

    public var depth: Int { blocks.count }

    /// Runs every block; `returnMaps` collects each stream's attention over the others.
    public func callAsFunction(_ streams: [Modality: ModalityTokens], returnMaps: Bool = false) -> CoAttentionOutput {
        var current = streams
        var maps: [[Modality: CoAttentionMap]] = []
        for block in blocks {
            let r = block(current, returnWeights: returnMaps)
            current = r.streams
            if returnMaps { maps.append(r.maps) }
        }
        return CoAttentionOutput(streams: current, maps: maps)
    }

    public override var summary: String { "CoAttention(depth: \(depth), \(modalities.map(\.rawValue).joined(separator: ", ")))" }
}
