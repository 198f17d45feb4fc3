/// What two adjacent parts of a piece merge into, if anything.
protocol PairRanking {
    /// The rank of merging parts `left` and `right` (their ids), whose bytes together are `bytes`,
    /// and the id of the merged part; nil when the pair does not merge.
    func merge(_ left: Int, _ right: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> (rank: Int, id: Int)?
}

/// Byte-pair merging: repeatedly merge the adjacent pair of lowest rank, the leftmost on ties.
///
/// This is tiktoken's algorithm (ranks are those of the merged bytes) and Hugging Face's BPE word
/// merge (ranks are those of the merge rule); `PairRanking` supplies either. Short pieces use a
/// linear scan like tiktoken's; long ones (runs of spaces, long words without breaks) a heap with
/// the same order — (rank, position) — so the result is identical and the cost O(n log n).
enum BytePairMerge {
    /// Parts longer than this use the heap.
    static let linearLimit = 48

    /// Merges the parts of `piece` given by `starts` (part `i` is `piece[starts[i] ..< starts[i + 1]]`,
    /// `starts.count == ids.count + 1`) and `ids`, leaving the merged parts in both.
    static func merge<R: PairRanking>(_ piece: UnsafeBufferPointer<UInt8>, starts: inout [Int], ids: inout [Int],
                                      _ ranking: R) {
        if ids.count < 2 { return }
        if ids.count <= linearLimit {
            linear(piece, &starts, &ids, ranking)
        } else {
            heap(piece, &starts, &ids, ranking)
        }
    }

    static func linear<R: PairRanking>(_ piece: UnsafeBufferPointer<UInt8>, _ starts: inout [Int],
                                       _ ids: inout [Int], _ ranking: R) {
        // ranks[i], merged[i]: merging part i with part i + 1.
        var ranks = [Int](repeating: .max, count: ids.count)
        var merged = [Int](repeating: 0, count: ids.count)
        for i in 0 ..< ids.count - 1 { (ranks[i], merged[i]) = pair(i, piece, starts, ids, ranking) }
        while true {
            var best = -1, bestRank = Int.max
            for i in 0 ..< ids.count - 1 where ranks[i] < bestRank { best = i; bestRank = ranks[i] }
            if best < 0 { break }
            ids[best] = merged[best]
            ids.remove(at: best + 1)
            starts.remove(at: best + 1)
            ranks.remove(at: best + 1)
            merged.remove(at: best + 1)
            (ranks[best], merged[best]) = pair(best, piece, starts, ids, ranking)
            if best > 0 { (ranks[best - 1], merged[best - 1]) = pair(best - 1, piece, starts, ids, ranking) }
        }
    }

    /// Rank and id of merging part `i` with the next (`Int.max` when there is none or they don't merge).
    @inline(__always)
    private static func pair<R: PairRanking>(_ i: Int, _ piece: UnsafeBufferPointer<UInt8>, _ starts: [Int],
                                             _ ids: [Int], _ ranking: R) -> (Int, Int) {
        guard i + 1 < ids.count,
              let m = ranking.merge(ids[i], ids[i + 1], UnsafeBufferPointer(rebasing: piece[starts[i] ..< starts[i + 2]]))
        else { return (.max, 0) }
        return (m.rank, m.id)
    }

    private struct Candidate {
        var rank: Int
        var part: Int  // original index of the left part: orders candidates left to right
        var version: Int

        @inline(__always)
        func before(_ other: Candidate) -> Bool { rank < other.rank || (rank == other.rank && part < other.part) }
    }

    /// A binary min-heap of candidates; a plain struct so that its storage is not boxed.
    private struct CandidateHeap {
        var items: [Candidate] = []

        var isEmpty: Bool { items.isEmpty }

        mutating func push(_ c: Candidate) {
            items.append(c)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                if !items[i].before(items[parent]) { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() -> Candidate {
            let top = items[0]
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                let n = items.count
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < n && items[l].before(items[m]) { m = l }
                    if r < n && items[r].before(items[m]) { m = r }
                    if m == i { break }
                    items.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
    }

    /// The parts of a long piece as a linked list with the merge candidates; one struct so that its
    /// arrays are accessed through `self` (statically checked) rather than captured by closures.
    private struct LinkedParts {
        var starts: [Int]
        var ids: [Int]
        var next: [Int]  // n means none
        var previous: [Int]
        var alive: [Bool]
        var merged: [Int]
        var version: [Int]
        var queue = CandidateHeap()
        let n: Int

        init(starts: [Int], ids: [Int]) {
            n = ids.count
            self.starts = starts
            self.ids = ids
            next = Array(1 ... n)
            previous = Array(-1 ..< n - 1)
            alive = [Bool](repeating: true, count: n)
            merged = [Int](repeating: 0, count: n)
            version = [Int](repeating: 0, count: n)
            queue.items.reserveCapacity(3 * n)
        }

        /// Queues the merge of part `i` with the part after it, if they merge.
        @inline(__always)
        mutating func rate<R: PairRanking>(_ i: Int, _ piece: UnsafeBufferPointer<UInt8>, _ ranking: R) {
            version[i] += 1
            let j = next[i]
            guard j < n else { return }
            let end = next[j] < n ? starts[next[j]] : starts[n]
            if let m = ranking.merge(ids[i], ids[j], UnsafeBufferPointer(rebasing: piece[starts[i] ..< end])) {
                merged[i] = m.id
                queue.push(Candidate(rank: m.rank, part: i, version: version[i]))
            }
        }

        mutating func run<R: PairRanking>(_ piece: UnsafeBufferPointer<UInt8>, _ ranking: R) {
            for i in 0 ..< n - 1 { rate(i, piece, ranking) }
            while !queue.isEmpty {
                let c = queue.pop()
                let i = c.part
                guard alive[i], c.version == version[i] else { continue }
                let j = next[i]
                ids[i] = merged[i]
                alive[j] = false
                version[j] += 1
                next[i] = next[j]
                if next[j] < n { previous[next[j]] = i }
                rate(i, piece, ranking)
                if previous[i] >= 0 { rate(previous[i], piece, ranking) }
            }
        }
    }

    static func heap<R: PairRanking>(_ piece: UnsafeBufferPointer<UInt8>, _ starts: inout [Int],
                                     _ ids: inout [Int], _ ranking: R) {
        var parts = LinkedParts(starts: starts, ids: ids)
        parts.run(piece, ranking)
        let n = ids.count
        var keptStarts: [Int] = [], keptIDs: [Int] = []
        for i in 0 ..< n where parts.alive[i] { keptStarts.append(parts.starts[i]); keptIDs.append(parts.ids[i]) }
        keptStarts.append(starts[n])
        starts = keptStarts
        ids = keptIDs
    }
}
