/// A relevance score per patch of one image's token grid, row-major: how much the model's output
/// draws on each patch according to an explanation method (``AttentionRollout``,
/// ``CoAttentionExplanation``). Scores are non-negative; only their relative size matters.
///
/// ```swift
/// let map = AttentionRollout().relevance(attention: attention, prefixTokens: 1, gridHeight: 8, gridWidth: 8)
/// map.peak                  // (row: 3, column: 5): the most relevant patch
/// let heatmap = Heatmap(map, width: 64, height: 64)
/// ```
public struct RelevanceMap: Sendable, Equatable {
    /// Patch rows.
    public let height: Int
    /// Patch columns.
    public let width: Int
    /// `height × width` scores, row-major.
    public let values: [Double]

    public init(height: Int, width: Int, values: [Double]) {
        precondition(height > 0 && width > 0, "RelevanceMap: grid must be at least 1×1, got \(height)×\(width)")
        precondition(values.count == height * width, "RelevanceMap: \(values.count) values for a \(height)×\(width) grid")
        self.height = height
        self.width = width
        self.values = values
    }

    /// The score of the patch at `row`, `column`.
    public subscript(row: Int, column: Int) -> Double {
        precondition(row >= 0 && row < height && column >= 0 && column < width,
                     "RelevanceMap: (\(row), \(column)) is outside the \(height)×\(width) grid")
        return values[row * width + column]
    }

    /// The patch with the highest score (the first one in row-major order on ties).
    public var peak: (row: Int, column: Int) {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return (best / width, best % width)
    }
}
