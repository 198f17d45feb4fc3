// Precision, recall and F1 per class and their macro average, with scikit-learn's conventions
// (`precision_recall_fscore_support`, `f1_score(average="macro", zero_division=0)`), so numbers
// can be compared with the Python ecosystem.
/// Per-class precision/recall/F1 and the accuracy and macro-F1 of a classifier.
///
/// For class c with tp = counts[c][c], fp = predicted(c) − tp, fn = support(c) − tp:
///
///     precision_c = tp / (tp + fp)        recall_c = tp / (tp + fn)
///     F1_c        = 2 · precision_c · recall_c / (precision_c + recall_c)
///
/// A ratio whose denominator is 0 is 0 (scikit-learn's `zero_division=0`, also what its default
/// "warn" returns). Macro averages are unweighted means over the classes that occur in the labels
/// or the predictions — scikit-learn's default `labels=None` — so a class the evaluation set never
/// touches does not drag the average down; ``macroAverage(over:)`` averages over any set.
///
/// ```swift
/// let report = ClassificationReport(labels: y, predictions: yhat, classCount: 10)
/// print(report.accuracy, report.macroF1, report.classes[3].f1)
/// ```
public struct ClassificationReport: Sendable, Equatable, Codable {
    /// One class's scores.
    public struct ClassScores: Sendable, Equatable, Codable {
        /// tp / (tp + fp), 0 when nothing was predicted as the class.
        public var precision: Double
        /// tp / (tp + fn), 0 when the class never occurs.
        public var recall: Double
        /// The harmonic mean of precision and recall (0 when both are 0).
        public var f1: Double
        /// Samples whose true class this is.
        public var support: Int
    }

    /// The counts everything is computed from.
    public var confusion: ConfusionMatrix
    /// Scores for classes `0..<classCount`.
    public var classes: [ClassScores]

    public init(confusion: ConfusionMatrix) {
        self.confusion = confusion
        classes = (0..<confusion.classCount).map { c in
            let tp = confusion.counts[c][c]
            let predicted = confusion.predictedCount(c), support = confusion.support(c)
            let precision = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let recall = support == 0 ? 0 : Double(tp) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassScores(precision: precision, recall: recall, f1: f1, support: support)
        }
    }

    /// The report of `labels` against `predictions`, classes `0..<classCount`.
    public init(labels: [Int], predictions: [Int], classCount: Int) {
        self.init(confusion: ConfusionMatrix(labels: labels, predictions: predictions, classCount: classCount))
    }

    /// The fraction of correct predictions.
    public var accuracy: Double { confusion.accuracy }

    /// The classes that occur among the labels or the predictions.
    public var observedClasses: [Int] {
        (0..<confusion.classCount).filter { confusion.support($0) > 0 || confusion.predictedCount($0) > 0 }
    }

    /// Unweighted means of precision, recall and F1 over `classes` (0 for an empty set).
    public func macroAverage(over classes: [Int]) -> (precision: Double, recall: Double, f1: Double) {
        guard !classes.isEmpty else { return (0, 0, 0) }
        let n = Double(classes.count)
        return (classes.reduce(0) { $0 + self.classes[$1].precision } / n,
                classes.reduce(0) { $0 + self.classes[$1].recall } / n,
                classes.reduce(0) { $0 + self.classes[$1].f1 } / n)
    }

    /// Macro-F1 over the observed classes (scikit-learn's `f1_score(average="macro")`).
    public var macroF1: Double { macroAverage(over: observedClasses).f1 }
    /// Macro precision over the observed classes.
    public var macroPrecision: Double { macroAverage(over: observedClasses).precision }
    /// Macro recall over the observed classes.
    public var macroRecall: Double { macroAverage(over: observedClasses).recall }
}
