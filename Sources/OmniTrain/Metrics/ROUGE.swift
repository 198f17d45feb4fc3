// ROUGE-L (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", §3.1), computed as
// Google's `rouge-score` package computes `rougeL` with its defaults (no stemming): the same
// tokenizer, LCS-based precision and recall, and their plain harmonic mean (β = 1).
/// ROUGE-L of generated text against references.
///
/// Tokens are rouge-score's default tokenization: the text is lowercased, every run of characters
/// other than ASCII `a-z` and `0-9` becomes a separator, and empty tokens are dropped (so
/// non-ASCII letters never match; no Porter stemming). With LCS the length of the longest common
/// subsequence of prediction tokens P and reference tokens R:
///
///     precision = LCS / |P|      recall = LCS / |R|      F = 2 · precision · recall / (precision + recall)
///
/// all 0 when either side has no token. rouge-score's F is the harmonic mean (β = 1), not Lin's
/// recall-weighted F_β. With several references the one with the highest F counts (the first on a
/// tie), as in `RougeScorer.score_multi`. ``corpusScore(predictions:references:)`` is the
/// arithmetic mean of the per-sample precision, recall and F.
///
/// ```swift
/// let s = ROUGE.rougeL(prediction: "the cat sat on a mat", references: ["The cat sat on the mat."])
/// print(s.fmeasure)   // 0.8333…
/// ```
public enum ROUGE {
    /// Precision, recall and F-measure, each in [0, 1].
    public struct Score: Sendable, Equatable, Codable {
        /// LCS / prediction length.
        public var precision: Double
        /// LCS / reference length.
        public var recall: Double
        /// 2PR / (P + R).
        public var fmeasure: Double

        public init(precision: Double, recall: Double, fmeasure: Double) {
            self.precision = precision
            self.recall = recall
            self.fmeasure = fmeasure
        }
    }

    /// rouge-score's default tokenizer without stemming.
    public static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = [], current = ""
        for ch in text.lowercased().unicodeScalars {
            let v = ch.value
            if (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) {
                current.unicodeScalars.append(ch)
            } else if !current.isEmpty {
                tokens.append(current)
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// The length of the longest common subsequence of `a` and `b` (O(|a|·|b|) time, O(|b|) memory).
    public static func longestCommonSubsequence<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        guard !a.isEmpty && !b.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: b.count + 1), row = previous
        for x in a {
            for j in 1...b.count {
                row[j] = x == b[j - 1] ? previous[j - 1] + 1 : Swift.max(previous[j], row[j - 1])
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }

    /// ROUGE-L of prediction tokens against reference tokens.
    public static func rougeL(predictionTokens p: [String], referenceTokens r: [String]) -> Score {
        guard !p.isEmpty && !r.isEmpty else { return Score(precision: 0, recall: 0, fmeasure: 0) }
        let lcs = Double(longestCommonSubsequence(r, p))
        let precision = lcs / Double(p.count), recall = lcs / Double(r.count)
        let f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return Score(precision: precision, recall: recall, fmeasure: f)
    }

    /// ROUGE-L of a prediction against its references (the best F; the first on a tie).
    public static func rougeL(prediction: String, references: [String]) -> Score {
        precondition(!references.isEmpty, "ROUGE: a prediction needs at least one reference")
        let p = tokenize(prediction)
        var best: Score?
        for r in references {
            let s = rougeL(predictionTokens: p, referenceTokens: tokenize(r))
            if best == nil || s.fmeasure > best!.fmeasure { best = s }
        }
        return best!
    }

    /// The mean ROUGE-L over samples; `references[i]` are the references of `predictions[i]`.
    /// (0 for an empty corpus.)
    public static func corpusScore(predictions: [String], references: [[String]]) -> Score {
        precondition(predictions.count == references.count, "ROUGE: \(predictions.count) predictions but \(references.count) reference sets")
        guard !predictions.isEmpty else { return Score(precision: 0, recall: 0, fmeasure: 0) }
        var sum = Score(precision: 0, recall: 0, fmeasure: 0)
        for (p, refs) in zip(predictions, references) {
            let s = rougeL(prediction: p, references: refs)
            sum.precision += s.precision; sum.recall += s.recall; sum.fmeasure += s.fmeasure
        }
        let n = Double(predictions.count)
        return Score(precision: sum.precision / n, recall: sum.recall / n, fmeasure: sum.fmeasure / n)
    }
}
