import OmniTensor

/// Stacks per-sample tensors into one batch tensor, padding variable-length axes to the batch
/// maximum and building the masks a model needs (true = real element).
///
/// ```swift
/// // token ids of lengths 3 and 1, and a sample without text
/// let b = Collator.collate([Tensor([5, 6, 7]), Tensor([9]), nil], variableAxes: [0], padValue: 0)
/// // b.values [[5, 6, 7], [9, 0, 0], [0, 0, 0]]; b.mask [[T, T, T], [T, F, F], [F, F, F]];
/// // b.present [T, T, F]; b.lengths [[3], [1], [0]]
/// ```
public enum Collator {
    /// Items that cannot be stacked with the first present item, with the reason: a different
    /// dtype or rank, a different size on an axis that is not variable, or a variable axis the
    /// tensor does not have.
    public static func mismatches(_ items: [Tensor?], variableAxes: [Int]) -> [(index: Int, reason: String)] {
        guard let first = items.firstIndex(where: { $0 != nil }), let reference = items[first] else { return [] }
        var out: [(index: Int, reason: String)] = []
        func pattern(_ shape: [Int]) -> String {
            "[" + shape.enumerated().map { variableAxes.contains($0.offset) ? "*" : "\($0.element)" }.joined(separator: ", ") + "]"
        }
        for (i, item) in items.enumerated() {
            guard let t = item else { continue }
            if let bad = variableAxes.first(where: { $0 < 0 || $0 >= t.rank }) {
                out.append((i, "the decoder declares axis \(bad) variable, but produced shape \(t.shape)"))
            } else if t.dtype != reference.dtype {
                out.append((i, "decoded to \(t.dtype), the batch (from row \(first)) is \(reference.dtype)"))
            } else if t.rank != reference.rank
                        || (0..<t.rank).contains(where: { !variableAxes.contains($0) && t.shape[$0] != reference.shape[$0] }) {
                out.append((i, "decoded to shape \(t.shape), the batch (from row \(first)) needs \(pattern(reference.shape))"))
            }
        }
        return out
    }

    /// The stacked batch of `items` (nil = the row lacks this modality). At least one item must be
    /// present and ``mismatches(_:variableAxes:)`` must be empty.
    public static func collate(_ items: [Tensor?], variableAxes: [Int], padValue: Double) -> ModalityBatch {
        guard let reference = items.first(where: { $0 != nil }) ?? nil else {
            preconditionFailure("Collator.collate: no row has data")
        }
        let problems = mismatches(items, variableAxes: variableAxes)
        precondition(problems.isEmpty, "Collator.collate: row \(problems.first!.index) \(problems.first!.reason)")
        let rank = reference.rank, dtype = reference.dtype, size = dtype.size, rows = items.count
        var shape = reference.shape
        for a in variableAxes { shape[a] = items.reduce(0) { Swift.max($0, $1?.shape[a] ?? 0) } }
        let perRow = shape.reduce(1, *)
        var outStrides = [Int](repeating: 1, count: rank)
        for a in stride(from: rank - 2, through: 0, by: -1) { outStrides[a] = outStrides[a + 1] * shape[a + 1] }

        let pad = padBytes(padValue, dtype)
        var bytes = [UInt8](repeating: 0, count: rows * perRow * size)
        if pad.contains(where: { $0 != 0 }) {
            bytes.withUnsafeMutableBytes { out in
                for e in 0..<(rows * perRow) { for b in 0..<size { out[e * size + b] = pad[b] } }
            }
        }
        bytes.withUnsafeMutableBytes { out in
            for (row, item) in items.enumerated() {
                guard let t = item, t.count > 0 else { continue }
                t.withUnsafeBytes { src in
                    let s = t.shape
                    let rowBytes = (rank == 0 ? 1 : s[rank - 1]) * size
                    let outer = rank <= 1 ? 1 : s[0..<(rank - 1)].reduce(1, *)
                    var index = [Int](repeating: 0, count: Swift.max(rank - 1, 0))  // odometer over the leading axes
                    for r in 0..<outer {
                        var offset = row * perRow
                        for a in 0..<index.count { offset += index[a] * outStrides[a] }
                        (out.baseAddress! + offset * size).copyMemory(from: src.baseAddress! + r * rowBytes, byteCount: rowBytes)
                        var a = index.count - 1
                        while a >= 0 {
                            index[a] += 1
                            if index[a] < s[a] { break }
                            index[a] = 0
                            a -= 1
                        }
                    }
                }
            }
        }
        let values = bytes.withUnsafeBytes { Tensor(copying: $0, shape: [rows] + shape, dtype: dtype) }  // [B, …]

        let lengths = items.map { item in variableAxes.map { item?.shape[$0] ?? 0 } }
        let maskDims = variableAxes.map { shape[$0] }
        let cells = maskDims.reduce(1, *)
        var mask = [Bool](repeating: false, count: rows * cells)
        for (row, item) in items.enumerated() where item != nil {
            let len = lengths[row]
            var index = [Int](repeating: 0, count: maskDims.count)
            for c in 0..<cells {
                if zip(index, len).allSatisfy({ $0 < $1 }) { mask[row * cells + c] = true }
                var a = index.count - 1
                while a >= 0 {
                    index[a] += 1
                    if index[a] < maskDims[a] { break }
                    index[a] = 0
                    a -= 1
                }
            }
        }
        let present = items.map { $0 != nil }
        return ModalityBatch(values: values, mask: Tensor(mask, shape: [rows] + maskDims),
                             present: Tensor(present, shape: [rows]), lengths: lengths, variableAxes: variableAxes)
    }

    /// `value` as one element of `dtype`, in bytes.
    static func padBytes(_ value: Double, _ dtype: DType) -> [UInt8] {
        let t: Tensor
        if dtype.isFloatingPoint {
            t = Tensor([Float(value)], shape: [1]).converted(to: dtype)
        } else {
            precondition(value.isFinite && value == value.rounded() && Swift.abs(value) < 0x1p62,
                         "Collator: pad value \(value) is not an integer, as \(dtype) data needs")
            t = Tensor([Int(value)], shape: [1], dtype: dtype)
        }
        return t.withUnsafeBytes { Array($0) }
    }
}
