import Foundation

/// A byte-level BPE tokenizer in tiktoken's form: mergeable byte sequences with ranks (a
/// `.tiktoken` file), a split pattern, and special tokens.
///
/// Encoding splits text with `pattern`, then merges each piece's bytes by rank exactly as tiktoken
/// does. Plain encoding treats special-token text as ordinary text (tiktoken's
/// `encode(text, disallowed_special=())`); pass `allowedSpecial` to turn it into special ids.
///
/// ```swift
/// let cl100k = try TiktokenTokenizer.cl100kBase(contentsOf: assets.appending(path: "tiktoken/cl100k_base.tiktoken"))
/// cl100k.encode("hello world", addSpecialTokens: false)           // [15339, 1917]
/// cl100k.encode("<|endoftext|>", allowedSpecial: ["<|endoftext|>"])  // [100257]
/// cl100k.decode([15339, 1917], skipSpecialTokens: false)          // "hello world"
/// ```
public struct TiktokenTokenizer: Tokenizer {
    /// How text is split before merging.
    public let pattern: SplitPattern
    /// Special tokens' text and id; their ids lie outside the mergeable ranks.
    public let specialTokens: [String: Int]
    public let vocabularySize: Int

    private let ranks: ByteSequenceTable
    /// Rank of each single byte, which every tokenizer has so that any text encodes.
    private let byteRanks: [Int]
    /// Bytes of each rank: `tokenStorage[tokenStarts[r] ..< tokenStarts[r] + tokenLengths[r]]`; length -1 for gaps.
    private let tokenStorage: [UInt8]
    private let tokenStarts: [Int]
    private let tokenLengths: [Int]
    private let specialByID: [Int: [UInt8]]

    /// GPT-2's `<|endoftext|>` id.
    public static let gpt2SpecialTokens = ["<|endoftext|>": 50256]
    /// cl100k_base's special tokens.
    public static let cl100kSpecialTokens = [
        "<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276,
    ]

    /// GPT-2 (also r50k): `gpt2.tiktoken` with GPT-2's split pattern and `<|endoftext|>` = 50256.
    public static func gpt2(contentsOf url: URL) throws -> TiktokenTokenizer {
        try TiktokenTokenizer(contentsOf: url, pattern: .gpt2, specialTokens: gpt2SpecialTokens)
    }

    /// cl100k_base: `cl100k_base.tiktoken` with cl100k's split pattern and its five special tokens.
    public static func cl100kBase(contentsOf url: URL) throws -> TiktokenTokenizer {
        try TiktokenTokenizer(contentsOf: url, pattern: .cl100k, specialTokens: cl100kSpecialTokens)
    }

    /// Loads a `.tiktoken` file: one `base64(token bytes) rank` per line.
    ///
    /// The file holds no pattern and no special tokens, so both are given here. Throws
    /// `TokenizerError` naming the file and line for bad base64, a missing or non-integer rank, a
    /// token or rank given twice, a single byte without a rank, or a special id equal to a rank.
    public init(contentsOf url: URL, pattern: SplitPattern, specialTokens: [String: Int] = [:]) throws {
        let file = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError(file: file, "cannot read: \(error.localizedDescription)")
        }
        let entries = try Self.parse(data, file: file)
        try self.init(entries, pattern: pattern, specialTokens: specialTokens, file: file)
    }

    /// A tokenizer from mergeable byte sequences and their ranks (as `BPETrainer` makes).
    public init(ranks: [(bytes: [UInt8], rank: Int)], pattern: SplitPattern, specialTokens: [String: Int] = [:]) throws {
        try self.init(ranks, pattern: pattern, specialTokens: specialTokens, file: "<ranks>")
    }

    private init(_ entries: [(bytes: [UInt8], rank: Int)], pattern: SplitPattern, specialTokens: [String: Int],
                 file: String) throws {
        guard !entries.isEmpty else { throw TokenizerError(file: file, "no tokens") }
        var table = ByteSequenceTable(minimumCapacity: entries.count)
        var maxRank = -1
        var hasEmpty = false
        for (bytes, rank) in entries {
            guard rank >= 0 else { throw TokenizerError(file: file, "negative rank \(rank)") }
            // An empty token (Whisper's multilingual vocabulary has one) decodes to nothing and
            // is never produced, so it stays out of the table.
            if bytes.isEmpty {
                guard !hasEmpty else { throw TokenizerError(file: file, "two empty tokens (again with rank \(rank))") }
                hasEmpty = true
            } else if !table.insert(bytes, value: rank) {
                throw TokenizerError(file: file, "token \(Base64.encode(bytes)) appears twice (again with rank \(rank))")
            }
            maxRank = max(maxRank, rank)
        }
        // Ranks are dense in real files; this keeps a corrupt rank from sizing the decoding table.
        guard maxRank < 2 * entries.count + 65536 else {
            throw TokenizerError(file: file, "rank \(maxRank) is far beyond the \(entries.count) tokens")
        }
        var starts = [Int](repeating: 0, count: maxRank + 1)
        var lengths = [Int](repeating: -1, count: maxRank + 1)
        var storage: [UInt8] = []
        for (bytes, rank) in entries {
            guard lengths[rank] < 0 else { throw TokenizerError(file: file, "rank \(rank) is given to two tokens") }
            starts[rank] = storage.count
            lengths[rank] = bytes.count
            storage.append(contentsOf: bytes)
        }
        var byteRanks: [Int] = []
        for b in 0 ... 255 {
            guard let r = table.value(for: [UInt8(b)]) else {
                throw TokenizerError(file: file, "byte 0x\(String(b, radix: 16)) has no rank, so some texts cannot be encoded")
            }
            byteRanks.append(r)
        }
        var specialByID: [Int: [UInt8]] = [:]
        for (text, id) in specialTokens {
            guard id > maxRank || lengths[id] < 0 else {
                throw TokenizerError(file: file, "special token \(text) has id \(id), which is also a rank")
            }
            guard specialByID[id] == nil else { throw TokenizerError(file: file, "two special tokens have id \(id)") }
            guard !text.isEmpty else { throw TokenizerError(file: file, "empty special token with id \(id)") }
            specialByID[id] = Array(text.utf8)
        }
        self.pattern = pattern
        self.specialTokens = specialTokens
        self.ranks = table
        self.byteRanks = byteRanks
        self.tokenStorage = storage
        self.tokenStarts = starts
        self.tokenLengths = lengths
        self.specialByID = specialByID
        self.vocabularySize = max(maxRank, specialTokens.values.max() ?? -1) + 1
    }

    /// The `.tiktoken` lines of `data`: `base64 rank`, blank lines skipped.
    private static func parse(_ data: Data, file: String) throws -> [(bytes: [UInt8], rank: Int)] {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var entries: [(bytes: [UInt8], rank: Int)] = []
            entries.reserveCapacity(bytes.count / 12)
            var lineStart = 0, lineNumber = 0
            while lineStart < bytes.count {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                var end = lineEnd
                if end > lineStart && bytes[end - 1] == 0x0D { end -= 1 }
                defer { lineStart = lineEnd + 1 }
                if end == lineStart { continue }
                var gap = lineStart
                while gap < end && bytes[gap] != 0x20 { gap += 1 }
                guard gap < end, gap > lineStart else {
                    throw TokenizerError(file: file, "line \(lineNumber): expected \"<base64 token> <rank>\"")
                }
                guard let token = Base64.decode(UnsafeBufferPointer(rebasing: bytes[lineStart ..< gap])) else {
                    throw TokenizerError(file: file, "line \(lineNumber): invalid base64 token \"\(String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart ..< gap]), as: UTF8.self))\"")
                }
                var rank = 0, digits = 0
                for k in gap + 1 ..< end {
                    let c = bytes[k]
                    guard c >= 0x30 && c <= 0x39, digits < 10 else {
                        throw TokenizerError(file: file, "line \(lineNumber): rank \"\(String(decoding: UnsafeBufferPointer(rebasing: bytes[gap + 1 ..< end]), as: UTF8.self))\" is not a non-negative integer")
                    }
                    rank = rank * 10 + Int(c - 0x30)
                    digits += 1
                }
                guard digits > 0 else { throw TokenizerError(file: file, "line \(lineNumber): missing rank") }
                entries.append((token, rank))
            }
            return entries
        }
    }

    // MARK: Encoding

    /// The ids of `text` with special-token text treated as ordinary text; tiktoken encodings have no
    /// template, so `addSpecialTokens` changes nothing.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        encode(text, allowedSpecial: [])
    }

    /// The ids of `text`, where occurrences of the special tokens named in `allowedSpecial` become
    /// their ids; any other special-token text is encoded as ordinary text.
    ///
    /// Pass `Set(tokenizer.specialTokens.keys)` to allow all of them.
    public func encode(_ text: String, allowedSpecial: Set<String>) -> [Int] {
        var text = text
        let specials = allowedSpecial.compactMap { name in specialTokens[name].map { (Array(name.utf8), $0) } }
            .sorted { $0.0.count > $1.0.count }
        return text.withUTF8 { utf8 in
            var out: [Int] = []
            out.reserveCapacity(utf8.count / 3)
            var start = 0
            if !specials.isEmpty {
                var i = 0
                scan: while i < utf8.count {
                    for (bytes, id) in specials where utf8[i] == bytes[0] && i + bytes.count <= utf8.count {
                        if (0 ..< bytes.count).allSatisfy({ utf8[i + $0] == bytes[$0] }) {
                            encodeOrdinary(UnsafeBufferPointer(rebasing: utf8[start ..< i]), into: &out)
                            out.append(id)
                            i += bytes.count
                            start = i
                            continue scan
                        }
                    }
                    i += 1
                }
            }
            encodeOrdinary(UnsafeBufferPointer(rebasing: utf8[start...]), into: &out)
            return out
        }
    }

    private func encodeOrdinary(_ utf8: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        let ranking = RankLookup(ranks: ranks)
        var starts: [Int] = [], ids: [Int] = []
        pattern.forEachPiece(utf8) { range in
            let piece = UnsafeBufferPointer(rebasing: utf8[range])
            if let rank = ranks.value(for: piece) {
                out.append(rank)
                return
            }
            starts.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            for (k, b) in piece.enumerated() { starts.append(k); ids.append(byteRanks[Int(b)]) }
            starts.append(piece.count)
            BytePairMerge.merge(piece, starts: &starts, ids: &ids, ranking)
            out.append(contentsOf: ids)
        }
    }

    /// The merged ids of one piece through the heap or the linear path (for tests).
    func mergeForTesting(_ piece: [UInt8], heap: Bool) -> [Int] {
        var starts = Array(0 ... piece.count), ids = piece.map { byteRanks[Int($0)] }
        piece.withUnsafeBufferPointer {
            if heap {
                BytePairMerge.heap($0, &starts, &ids, RankLookup(ranks: ranks))
            } else {
                BytePairMerge.linear($0, &starts, &ids, RankLookup(ranks: ranks))
            }
        }
        return ids
    }

    private struct RankLookup: PairRanking {
        let ranks: ByteSequenceTable
        @inline(__always)
        func merge(_ left: Int, _ right: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> (rank: Int, id: Int)? {
            ranks.value(for: bytes).map { ($0, $0) }
        }
    }

    // MARK: Decoding

    /// The bytes of `ids` (a token may end inside a UTF-8 character, so this is the lossless form).
    /// Ids that name no token are skipped.
    public func decodeBytes(_ ids: [Int], skipSpecialTokens: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids {
            if id >= 0 && id < tokenLengths.count && tokenLengths[id] >= 0 {
                out.append(contentsOf: tokenStorage[tokenStarts[id] ..< tokenStarts[id] + tokenLengths[id]])
            } else if !skipSpecialTokens, let special = specialByID[id] {
                out.append(contentsOf: special)
            }
        }
        return out
    }

    /// The text of `ids`; bytes that are not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        String(decoding: decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    // MARK: Saving

    /// The mergeable tokens' bytes and ranks, in rank order.
    public var mergeableRanks: [(bytes: [UInt8], rank: Int)] {
        (0 ..< tokenLengths.count).compactMap { r in
            tokenLengths[r] < 0 ? nil : (Array(tokenStorage[tokenStarts[r] ..< tokenStarts[r] + tokenLengths[r]]), r)
        }
    }

    /// Writes the mergeable ranks as a `.tiktoken` file (`base64 rank` per line, in rank order),
    /// atomically. The format has no room for the pattern or the special tokens: give them again to
    /// `init(contentsOf:pattern:specialTokens:)` when loading.
    public func save(to url: URL) throws {
        var text = ""
        text.reserveCapacity(tokenLengths.count * 12)
        for (bytes, rank) in mergeableRanks {
            text += bytes.isEmpty ? "=" : Base64.encode(bytes)
            text += " \(rank)\n"
        }
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw TokenizerError(file: url.path, "cannot write: \(error.localizedDescription)")
        }
    }
}
