// Cross-modal retrieval Recall@K, as reported for CLIP/ImageBind-style models: each item of one
// modality queries all items of the other, and a query counts as a hit when its own partner is
// among the K most similar candidates.
import OmniData
import OmniTensor

/// Recall@K of one retrieval direction: `recall[k]` is the fraction of queries whose partner
/// ranks within the top k.
public struct RecallAtK: Sendable, Equatable, Codable {
    /// Recall by K, each in [0, 1].
    public var recall: [Int: Double]
    /// The rank (1 = best) of each query's partner, in query order.
    public var ranks: [Int]

    /// Recall@k (0 for a K that was not computed).
    public subscript(k: Int) -> Double { recall[k] ?? 0 }

    /// The median rank of the partners (the mean of the two middle ranks for an even count; 0 for none).
    public var medianRank: Double {
        let r = ranks.sorted()
        guard !r.isEmpty else { return 0 }
        return r.count % 2 == 1 ? Double(r[r.count / 2]) : Double(r[r.count / 2 - 1] + r[r.count / 2]) / 2
    }
}

/// Retrieval between two modalities in both directions.
public struct RetrievalScores: Sendable, Equatable, Codable {
    /// Queries from the pair's first modality, candidates from its second.
    public var forward: RecallAtK
    /// Queries from the second modality, candidates from the first.
    public var backward: RecallAtK
    /// How many samples (query/candidate pairs) were ranked.
    public var sampleCount: Int
    /// Recall@K of a random ranking, min(1, K/N), by K: the chance level to compare against.
    public var chance: [Int: Double]
}

/// Recall@K for paired embeddings.
///
/// Sample i of `a` is paired with sample i of `b`; similarity is the dot product (the cosine for
/// L2-normalised embeddings). The rank of a query's partner is
///
///     rank_i = 1 + #{ j ≠ i : s(q_i, c_j) ≥ s(q_i, c_i) }
///
/// so **ties count against the query**: a candidate scoring exactly as high as the partner ranks
/// ahead of it, whatever the order. This makes the result independent of candidate order and
/// pessimistic: constant embeddings get rank N for every query (R@K = 0 for K < N), never a free
/// hit. Recall@K is the fraction of queries with rank ≤ K; K larger than N counts every query.
///
/// ```swift
/// let scores = RetrievalMetrics.scores(imageEmbeddings, textEmbeddings)     // [N, E] each
/// print(scores.forward[1], scores.backward[5])                              // image→text R@1, text→image R@5
/// let all = RetrievalMetrics.scores([.image: i, .text: t, .audio: a], presence: [.audio: hasAudio])
/// ```
public enum RetrievalMetrics {
    /// The default cut-offs, R@1, R@5 and R@10.
    public static let defaultKs = [1, 5, 10]

    /// Recall@K of queries `queries` [N, E] against candidates `candidates` [N, E] (row i's partner is row i).
    public static func recall(queries: Tensor, candidates: Tensor, ks: [Int] = defaultKs) -> RecallAtK {
        let similarity = similarities(queries, candidates)                                // [N, N]
        return recall(similarity: similarity.toArray(), count: queries.shape[0], ks: ks, transposed: false)
    }

    /// Both directions between `a` and `b` (each [N, E], rows paired).
    public static func scores(_ a: Tensor, _ b: Tensor, ks: [Int] = defaultKs) -> RetrievalScores {
        let n = a.shape[0]
        let similarity = similarities(a, b).toArray()                                     // [N, N], a rows × b columns
        let forward = recall(similarity: similarity, count: n, ks: ks, transposed: false)
        let backward = recall(similarity: similarity, count: n, ks: ks, transposed: true)
        let chance = Dictionary(uniqueKeysWithValues: ks.map { ($0, n == 0 ? 0 : Swift.min(1, Double($0) / Double(n))) })
        return RetrievalScores(forward: forward, backward: backward, sampleCount: n, chance: chance)
    }

    /// Both directions for every pair of modalities in `embeddings` (each [B, E]), using for each
    /// pair only the samples that have both (`presence[m]` bool [B]; absent = every sample). A
    /// pair with no common sample is left out.
    public static func scores(_ embeddings: [Modality: Tensor], presence: [Modality: Tensor] = [:],
                              ks: [Int] = defaultKs) -> [ModalityPair: RetrievalScores] {
        var present: [Modality: [Bool]] = [:]
        for (m, mask) in presence {
            precondition(mask.dtype == .bool && mask.rank == 1, "RetrievalMetrics: presence[\(m.rawValue)] must be bool [B], got \(mask.dtype) \(mask.shape)")
            present[m] = mask.toBoolArray()
        }
        var out: [ModalityPair: RetrievalScores] = [:]
        for pair in ModalityPair.all(embeddings.keys) {
            let a = embeddings[pair.first]!, b = embeddings[pair.second]!
            precondition(a.shape[0] == b.shape[0], "RetrievalMetrics: \(pair.first.rawValue) has \(a.shape[0]) samples, \(pair.second.rawValue) \(b.shape[0])")
            for m in [pair.first, pair.second] {
                if let p = present[m] { precondition(p.count == a.shape[0], "RetrievalMetrics: presence[\(m.rawValue)] has \(p.count) entries for \(a.shape[0]) samples") }
            }
            let rows = (0..<a.shape[0]).filter { (present[pair.first]?[$0] ?? true) && (present[pair.second]?[$0] ?? true) }
            guard !rows.isEmpty else { continue }
            let index = Tensor(rows)
            let pick = { (x: Tensor) in rows.count == x.shape[0] ? x : x.indexSelect(axis: 0, indices: index) }
            out[pair] = scores(pick(a), pick(b), ks: ks)
        }
        return out
    }

    /// q · cᵀ without gradient, [N, N].
    static func similarities(_ q: Tensor, _ c: Tensor) -> Tensor {
        precondition(q.rank == 2 && q.shape == c.shape && q.dtype == .float32,
                     "RetrievalMetrics: embeddings must be two float32 [N, E] of one shape, got \(q.shape) and \(c.shape)")
        return GradMode.withoutGrad { q.detached().matmul(c.detached().transposed()) }
    }

    /// Ranks with ties against the query; `transposed` reads queries from the columns.
    static func recall(similarity s: [Float], count n: Int, ks: [Int], transposed: Bool) -> RecallAtK {
        precondition(ks.allSatisfy { $0 >= 1 }, "RetrievalMetrics: every K must be at least 1, got \(ks)")
        var ranks = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let at = { (j: Int) in transposed ? s[j * n + i] : s[i * n + j] }
            let own = at(i)
            var ahead = 0
            for j in 0..<n where j != i {
                let v = at(j)
                // A NaN similarity (bad embeddings) also counts against the query.
                if v >= own || v.isNaN || own.isNaN { ahead += 1 }
            }
            ranks[i] = 1 + ahead
        }
        var recall: [Int: Double] = [:]
        for k in ks { recall[k] = n == 0 ? 0 : Double(ranks.filter { $0 <= k }.count) / Double(n) }
        return RecallAtK(recall: recall, ranks: ranks)
    }
}
