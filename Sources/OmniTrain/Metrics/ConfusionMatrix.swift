/// Counts of (true class, predicted class) pairs, as scikit-learn's `confusion_matrix`:
/// `counts[t][p]` is how many samples of true class t were predicted as p.
///
/// ```swift
/// let m = ConfusionMatrix(labels: [0, 1, 2, 2], predictions: [0, 2, 2, 1], classCount: 3)
/// print(m.counts)        // [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
/// print(m.accuracy)      // 0.5
/// ```
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    /// Rows are true classes, columns predicted classes; `classCount` × `classCount`.
    public private(set) var counts: [[Int]]

    /// An empty matrix for classes `0..<classCount`.
    public init(classCount: Int) {
        precondition(classCount >= 1, "ConfusionMatrix: classCount must be at least 1, got \(classCount)")
        counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
    }

    /// The matrix of `labels` against `predictions` (equal counts, classes in `0..<classCount`).
    public init(labels: [Int], predictions: [Int], classCount: Int) {
        precondition(labels.count == predictions.count, "ConfusionMatrix: \(labels.count) labels but \(predictions.count) predictions")
        self.init(classCount: classCount)
        for (t, p) in zip(labels, predictions) { add(label: t, prediction: p) }
    }

    /// Records one sample.
    public mutating func add(label: Int, prediction: Int) {
        precondition(label >= 0 && label < classCount && prediction >= 0 && prediction < classCount,
                     "ConfusionMatrix: label \(label) / prediction \(prediction) outside 0..<\(classCount)")
        counts[label][prediction] += 1
    }

    /// Adds another matrix's counts (e.g. from another evaluation shard).
    public mutating func merge(_ other: ConfusionMatrix) {
        precondition(other.classCount == classCount, "ConfusionMatrix: cannot merge \(other.classCount) classes into \(classCount)")
        for t in 0..<classCount { for p in 0..<classCount { counts[t][p] += other.counts[t][p] } }
    }

    /// The number of classes.
    public var classCount: Int { counts.count }

    /// How many samples were recorded.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The fraction predicted correctly (0 with no sample).
    public var accuracy: Double {
        let n = total
        return n == 0 ? 0 : Double((0..<classCount).reduce(0) { $0 + counts[$1][$1] }) / Double(n)
    }

    /// Samples whose true class is `c` (row sum).
    public func support(_ c: Int) -> Int { counts[c].reduce(0, +) }

    /// Samples predicted as `c` (column sum).
    public func predictedCount(_ c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }
}
