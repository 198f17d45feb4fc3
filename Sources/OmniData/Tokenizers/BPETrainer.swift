/// Trains a byte-level BPE vocabulary from text, giving a `TiktokenTokenizer`.
///
/// Text is split with `pattern` (special-token text is removed first, so it is never merged); the
/// 256 single bytes get ranks 0–255 (rank = byte value); then, until the vocabulary has
/// `vocabularySize` entries counting the special tokens, the most frequent adjacent pair of tokens
/// within the pieces is merged into a new token with the next rank. Ties go to the pair whose
/// (left rank, right rank) is smallest, and pieces are counted without regard to order, so the
/// result depends only on the multiset of pieces — never on hashing or thread timing. Training
/// stops early when every piece has become a single token.
///
/// The special tokens get the ids after the last rank, in the order given. Save the result with
/// `TiktokenTokenizer.save(to:)` (a `.tiktoken` file of the ranks) and load it with
/// `TiktokenTokenizer(contentsOf:pattern:specialTokens:)`, passing the same pattern and
/// `tokenizer.specialTokens`.
///
/// ```swift
/// let trainer = BPETrainer(vocabularySize: 1000, specialTokens: ["<|endoftext|>"])
/// let tokenizer = trainer.train(on: corpus)
/// try tokenizer.save(to: URL(filePath: "my.tiktoken"))
/// ```
public struct BPETrainer: Sendable {
    /// Ranks plus special tokens; at least 256 + `specialTokens.count`.
    public var vocabularySize: Int
    public var pattern: SplitPattern
    public var specialTokens: [String]

    public init(vocabularySize: Int, pattern: SplitPattern = .gpt2, specialTokens: [String] = []) {
        self.vocabularySize = vocabularySize
        self.pattern = pattern
        self.specialTokens = specialTokens
    }

    private struct Candidate {
        var count: Int
        var pair: UInt64
        /// Max-heap order: higher count first, then the smaller pair.
        func before(_ other: Candidate) -> Bool {
            count > other.count || (count == other.count && pair < other.pair)
        }
    }

    public func train(on texts: [String]) -> TiktokenTokenizer {
        precondition(vocabularySize >= 256 + specialTokens.count,
                     "BPETrainer: vocabularySize \(vocabularySize) is below 256 bytes + \(specialTokens.count) special tokens")
        precondition(Set(specialTokens).count == specialTokens.count && !specialTokens.contains(""),
                     "BPETrainer: special tokens must be distinct and non-empty: \(specialTokens)")
        // Unique pieces with their counts, sorted so nothing depends on Dictionary order.
        var pieceCounts: [[UInt8]: Int] = [:]
        for text in texts {
            for chunk in withoutSpecialTokens(text) {
                var chunk = chunk
                chunk.withUTF8 { utf8 in pattern.forEachPiece(utf8) { pieceCounts[Array(utf8[$0]), default: 0] += 1 } }
            }
        }
        let pieces = pieceCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var words = pieces.map { $0.key.map(Int.init) }
        let wordCounts = pieces.map(\.value)

        var tokens: [[UInt8]] = (0 ..< 256).map { [UInt8($0)] }
        var tokenIDs: [[UInt8]: Int] = [:]
        for (i, t) in tokens.enumerated() { tokenIDs[t] = i }

        var pairCounts: [UInt64: Int] = [:]
        var pairWords: [UInt64: [Int]] = [:]
        @inline(__always) func key(_ a: Int, _ b: Int) -> UInt64 { UInt64(a) << 32 | UInt64(b) }
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0 ..< word.count - 1 {
                let k = key(word[i], word[i + 1])
                pairCounts[k, default: 0] += wordCounts[w]
                pairWords[k, default: []].append(w)
            }
        }
        var heap: [Candidate] = []
        func push(_ c: Candidate) {
            heap.append(c)
            var i = heap.count - 1
            while i > 0, heap[i].before(heap[(i - 1) / 2]) { heap.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
        }
        func pop() -> Candidate {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count && heap[l].before(heap[m]) { m = l }
                    if r < heap.count && heap[r].before(heap[m]) { m = r }
                    if m == i { break }
                    heap.swapAt(i, m); i = m
                }
            }
            return top
        }
        for (pair, count) in pairCounts.sorted(by: { $0.key < $1.key }) { push(Candidate(count: count, pair: pair)) }

        let targetRanks = vocabularySize - specialTokens.count
        var visited = [Int](repeating: -1, count: words.count)
        var step = 0
        while tokens.count < targetRanks && !heap.isEmpty {
            let best = pop()
            guard best.count > 0, pairCounts[best.pair] == best.count else { continue }
            step += 1
            let a = Int(best.pair >> 32), b = Int(best.pair & 0xFFFF_FFFF)
            let bytes = tokens[a] + tokens[b]
            let merged: Int
            if let existing = tokenIDs[bytes] {
                merged = existing  // the same bytes were already made by another pair
            } else {
                merged = tokens.count
                tokens.append(bytes)
                tokenIDs[bytes] = merged
            }
            var changed: Set<UInt64> = []
            for w in pairWords[best.pair] ?? [] where visited[w] != step {
                visited[w] = step
                let old = words[w]
                var new: [Int] = []
                new.reserveCapacity(old.count)
                var i = 0
                while i < old.count {
                    if i + 1 < old.count && old[i] == a && old[i + 1] == b {
                        new.append(merged); i += 2
                    } else {
                        new.append(old[i]); i += 1
                    }
                }
                if new.count == old.count { continue }
                for i in 0 ..< old.count - 1 {
                    let k = key(old[i], old[i + 1])
                    pairCounts[k, default: 0] -= wordCounts[w]
                    changed.insert(k)
                }
                if new.count > 1 {
                    for i in 0 ..< new.count - 1 {
                        let k = key(new[i], new[i + 1])
                        pairWords[k, default: []].append(w)  // duplicates are skipped through `visited`
                        pairCounts[k, default: 0] += wordCounts[w]
                        changed.insert(k)
                    }
                }
                words[w] = new
            }
            pairWords[best.pair] = nil
            for k in changed.sorted() where pairCounts[k, default: 0] > 0 { push(Candidate(count: pairCounts[k]!, pair: k)) }
        }
        let specials = Dictionary(uniqueKeysWithValues: specialTokens.enumerated().map { ($1, tokens.count + $0) })
        let ranks = tokens.enumerated().map { (bytes: $1, rank: $0) }
        // The ranks are distinct, non-empty and cover every byte by construction.
        return try! TiktokenTokenizer(ranks: ranks, pattern: pattern, specialTokens: specials)
    }

    /// `text` cut at every occurrence of a special token (longest first), the tokens dropped.
    private func withoutSpecialTokens(_ text: String) -> [String] {
        guard !specialTokens.isEmpty else { return [text] }
        let specials = specialTokens.map { Array($0.utf8) }.sorted { $0.count > $1.count }
        let utf8 = Array(text.utf8)
        var chunks: [String] = []
        var start = 0, i = 0
        scan: while i < utf8.count {
            for s in specials where utf8[i] == s[0] && i + s.count <= utf8.count && Array(utf8[i ..< i + s.count]) == s {
                chunks.append(String(decoding: utf8[start ..< i], as: UTF8.self))
                i += s.count
                start = i
                continue scan
            }
            i += 1
        }
        chunks.append(String(decoding: utf8[start...], as: UTF8.self))
        return chunks
    }
}
