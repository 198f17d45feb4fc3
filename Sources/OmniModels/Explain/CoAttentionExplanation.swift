// The co-attention map as an explanation: how strongly one stream's tokens (the text prompt, by
// default) attend to each patch of the image in the fusion's co-attention blocks.
//
// Each ``CoAttentionMap`` holds a stream's cross-attention probabilities [B, H, Nq, Nk] over the
// concatenated tokens of the other streams, with ``KeySegment``s saying where each modality's keys
// sit. The relevance of image patch p is the probability on p's key, averaged over the heads, the
// query stream's real tokens and the blocks:
//
//     relevance[p] = mean_blocks mean_heads mean_{q real} A[q, start(image) + prefix + p]
//
// The probabilities are taken as they are (spread over every other modality's keys, not
// renormalised over the image's): a heatmap normalises the map anyway, and the image's share of
// the attention stays comparable between prompts.
import OmniData
import OmniTensor

/// The co-attention from one stream's tokens to an image's patch tokens, as a relevance map.
///
/// ```swift
/// let out = model(input, returnMaps: true)
/// let grid = model.imageEncoder!.tokenGrid(height: 64, width: 64)
/// let map = try CoAttentionExplanation().relevance(maps: out.maps, queryMask: out.encoded[.text]!.mask,
///                                                  prefixTokens: grid.prefix, gridHeight: grid.height,
///                                                  gridWidth: grid.width)
/// ```
public struct CoAttentionExplanation: Sendable, Equatable {
    /// The stream whose attention is read (its tokens are the queries).
    public var queryModality: Modality
    /// The stream whose tokens are the image patches (the keys).
    public var keyModality: Modality

    public init(queryModality: Modality = .text, keyModality: Modality = .image) {
        self.queryModality = queryModality
        self.keyModality = keyModality
    }

    /// The relevance of each patch for one sample.
    ///
    /// - Parameters:
    ///   - maps: per block, each stream's map (``FusedOutput/maps``, from a forward with `returnMaps`).
    ///   - queryMask: bool [B, Nq], the query stream's real tokens (``FusedOutput/encoded``'s mask).
    ///   - prefixTokens: tokens before the patch grid in the key stream (a ViT's class token).
    /// - Throws: ``ExplanationError`` when there are no maps, a block has no map for the query
    ///   stream or no keys of the key stream, or the sample has no query token.
    public func relevance(maps: [[Modality: CoAttentionMap]], queryMask: Tensor, sample: Int = 0, prefixTokens: Int,
                          gridHeight: Int, gridWidth: Int) throws -> RelevanceMap {
        guard !maps.isEmpty else {
            throw ExplanationError("no co-attention maps: the model has no co-attention blocks (fusion.depth 0), or the forward pass did not return maps")
        }
        precondition(queryMask.dtype == .bool && queryMask.rank == 2, "CoAttentionExplanation: queryMask must be bool [B, Nq], got \(queryMask.dtype) \(queryMask.shape)")
        let b = queryMask.shape[0], nq = queryMask.shape[1]
        precondition(sample >= 0 && sample < b, "CoAttentionExplanation: sample \(sample) is outside the batch of \(b)")
        let real = Array(queryMask.narrowed(axis: 0, start: sample, length: 1).toBoolArray())
        let queries = real.indices.filter { real[$0] }
        guard !queries.isEmpty else {
            throw ExplanationError("sample \(sample) has no \(queryModality.rawValue) tokens to read the co-attention from")
        }
        let patches = gridHeight * gridWidth
        var sum = [Double](repeating: 0, count: patches)
        for (index, block) in maps.enumerated() {
            guard let map = block[queryModality] else {
                throw ExplanationError("co-attention block \(index) has no map for \(queryModality.rawValue) (the stream attends to nothing when it is the only modality)")
            }
            guard let segment = map.segments.first(where: { $0.modality == keyModality }) else {
                throw ExplanationError("co-attention block \(index): \(queryModality.rawValue) attends to no \(keyModality.rawValue) keys")
            }
            let shape = map.weights.shape
            precondition(shape.count == 4 && shape[0] == b && shape[2] == nq,
                         "CoAttentionExplanation: block \(index)'s weights \(shape) do not match queryMask \(queryMask.shape)")
            precondition(prefixTokens >= 0 && prefixTokens + patches <= segment.range.count,
                         "CoAttentionExplanation: \(prefixTokens) + \(gridHeight)×\(gridWidth) tokens do not fit \(keyModality.rawValue)'s \(segment.range.count) keys")
            let (heads, nk) = (shape[1], shape[3])
            let w = map.weights.narrowed(axis: 0, start: sample, length: 1).toArray()   // [H·Nq·Nk]
            let start = segment.range.lowerBound + prefixTokens
            let scale = 1 / Double(heads * queries.count)
            for h in 0..<heads {
                for q in queries {
                    let base = (h * nq + q) * nk + start
                    for p in 0..<patches { sum[p] += Double(w[base + p]) * scale }
                }
            }
        }
        return RelevanceMap(height: gridHeight, width: gridWidth, values: sum.map { $0 / Double(maps.count) })
    }
}
