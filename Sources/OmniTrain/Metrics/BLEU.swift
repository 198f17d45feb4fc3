// BLEU (Papineni, Roukos, Ward & Zhu 2002, "BLEU: a Method for Automatic Evaluation of Machine
// Translation"), computed as sacreBLEU does (Post 2018): corpus-level sufficient statistics,
// clipped n-gram matches against multiple references, the closest reference length for the
// brevity penalty, optional smoothing from Chen & Cherry (2014), and mteval-v13a tokenization.
import Foundation

/// BLEU-N of hypotheses against references, on a 0…1 scale (sacreBLEU reports 100×).
///
/// With clipped matches mₙ and hypothesis n-gram totals tₙ summed over the corpus, hypothesis
/// length c and reference length r (per sentence the reference length closest to the hypothesis,
/// the shorter on a tie, summed):
///
///     pₙ   = mₙ / tₙ                         n = 1…N (N = 4 for BLEU-4)
///     BP   = 1 if c ≥ r, else exp(1 − r/c)   (0 when c = 0)
///     BLEU = BP · exp( (1/N) Σₙ log pₙ )
///
/// BLEU is 0 when no unigram matches, or when some order has no hypothesis n-gram at all
/// (tₙ = 0, as in sacreBLEU without effective order). A zero match count mₙ = 0 is handled by
/// ``Smoothing``: ``Smoothing/none`` gives 0 (the original definition, right for corpora);
/// ``Smoothing/floor(epsilon:)`` (Chen & Cherry method 1, NLTK's `method1`, sacreBLEU's `floor`)
/// uses ε/tₙ; ``Smoothing/exponential`` (method 3, mteval-v13a and sacreBLEU's default `exp`)
/// uses 1/(2ᵏ·tₙ) for the k-th order with no match. Sentence-level BLEU needs smoothing.
///
/// NLTK differs in one corner: it counts at least 1 hypothesis n-gram per sentence even when the
/// sentence is shorter than n. For hypotheses of ≥ N tokens both agree exactly.
///
/// ```swift
/// let hyps = ["the cat sat on the mat"].map(BLEU.tokenize13a)
/// let refs = [["the cat is on the mat"].map(BLEU.tokenize13a)]
/// let corpus = BLEU.corpusScore(hypotheses: hyps, references: refs)              // Papineni BLEU-4
/// let sentence = BLEU.sentenceScore(hypothesis: hyps[0], references: refs[0])    // method-1 smoothing
/// ```
public enum BLEU {
    /// What a zero n-gram match count becomes (Chen & Cherry 2014).
    public enum Smoothing: Sendable, Hashable, Codable {
        /// None: any order without matches makes BLEU 0.
        case none
        /// Method 1: precision ε/tₙ for an order without matches (NLTK's default ε = 0.1).
        case floor(epsilon: Double)
        /// Method 3 (NIST / mteval-v13a): 1/(2ᵏ·tₙ) for the k-th order without matches.
        case exponential
    }

    /// The sufficient statistics of BLEU; add them over sentences to get corpus statistics.
    public struct Statistics: Sendable, Equatable, Codable {
        /// Clipped n-gram matches for n = 1…N.
        public var matches: [Int]
        /// Hypothesis n-grams for n = 1…N.
        public var totals: [Int]
        /// Hypothesis tokens.
        public var hypothesisLength: Int
        /// Closest reference length.
        public var referenceLength: Int

        /// Zero statistics for orders 1…`maxOrder`.
        public init(maxOrder: Int = 4) {
            matches = [Int](repeating: 0, count: maxOrder)
            totals = matches
            hypothesisLength = 0
            referenceLength = 0
        }

        public static func + (a: Statistics, b: Statistics) -> Statistics {
            precondition(a.matches.count == b.matches.count, "BLEU.Statistics: cannot add orders \(a.matches.count) and \(b.matches.count)")
            var s = a
            for n in 0..<a.matches.count { s.matches[n] += b.matches[n]; s.totals[n] += b.totals[n] }
            s.hypothesisLength += b.hypothesisLength
            s.referenceLength += b.referenceLength
            return s
        }
    }

    /// A BLEU score and its parts.
    public struct Score: Sendable, Equatable, Codable {
        /// BLEU in [0, 1].
        public var score: Double
        /// The (smoothed) precisions pₙ, n = 1…N.
        public var precisions: [Double]
        /// The brevity penalty.
        public var brevityPenalty: Double
        /// The statistics it was computed from.
        public var statistics: Statistics
    }

    /// The statistics of one hypothesis against its references (token lists).
    public static func statistics(hypothesis: [String], references: [[String]], maxOrder: Int = 4) -> Statistics {
        precondition(maxOrder >= 1, "BLEU: maxOrder must be at least 1, got \(maxOrder)")
        precondition(!references.isEmpty, "BLEU: a hypothesis needs at least one reference")
        var s = Statistics(maxOrder: maxOrder)
        s.hypothesisLength = hypothesis.count
        // Closest reference length; on a tie the shorter (sacreBLEU and NLTK agree).
        s.referenceLength = references.map(\.count).min { a, b in
            let da = abs(a - hypothesis.count), db = abs(b - hypothesis.count)
            return da != db ? da < db : a < b
        }!
        for n in 1...maxOrder {
            let counts = ngramCounts(hypothesis, n)
            guard !counts.isEmpty else { continue }
            var maxReference: [ArraySlice<String>: Int] = [:]
            for r in references {
                for (gram, c) in ngramCounts(r, n) { maxReference[gram] = Swift.max(maxReference[gram] ?? 0, c) }
            }
            for (gram, c) in counts {
                s.totals[n - 1] += c
                s.matches[n - 1] += Swift.min(c, maxReference[gram] ?? 0)
            }
        }
        return s
    }

    /// BLEU from (corpus) statistics.
    public static func score(_ s: Statistics, smoothing: Smoothing = .none) -> Score {
        let order = s.matches.count
        let c = Double(s.hypothesisLength), r = Double(s.referenceLength)
        let bp = s.hypothesisLength >= s.referenceLength ? 1 : (s.hypothesisLength == 0 ? 0 : Foundation.exp(1 - r / c))
        var precisions = [Double](repeating: 0, count: order)
        guard s.matches.contains(where: { $0 > 0 }) else {
            return Score(score: 0, precisions: precisions, brevityPenalty: bp, statistics: s)
        }
        var halvings = 1.0, logSum = 0.0, zero = false
        for n in 0..<order {
            guard s.totals[n] > 0 else { zero = true; break }
            let total = Double(s.totals[n])
            if s.matches[n] > 0 {
                precisions[n] = Double(s.matches[n]) / total
            } else {
                switch smoothing {
                case .none: precisions[n] = 0
                case .floor(let epsilon): precisions[n] = epsilon / total
                case .exponential:
                    halvings *= 2
                    precisions[n] = 1 / (halvings * total)
                }
            }
            if precisions[n] > 0 { logSum += Foundation.log(precisions[n]) } else { zero = true }
        }
        let value = zero ? 0 : bp * Foundation.exp(logSum / Double(order))
        return Score(score: value, precisions: precisions, brevityPenalty: bp, statistics: s)
    }

    /// Corpus BLEU: statistics summed over all sentences, then one score (not a mean of sentence
    /// scores). `references[i]` are the references of `hypotheses[i]` (token lists).
    public static func corpusScore(hypotheses: [[String]], references: [[[String]]], maxOrder: Int = 4,
                                   smoothing: Smoothing = .none) -> Score {
        precondition(hypotheses.count == references.count, "BLEU: \(hypotheses.count) hypotheses but \(references.count) reference sets")
        var total = Statistics(maxOrder: maxOrder)
        for (h, refs) in zip(hypotheses, references) { total = total + statistics(hypothesis: h, references: refs, maxOrder: maxOrder) }
        return score(total, smoothing: smoothing)
    }

    /// Sentence BLEU, smoothed by default with Chen & Cherry method 1 (ε = 0.1), as NLTK's
    /// `sentence_bleu(…, smoothing_function=SmoothingFunction().method1)`.
    public static func sentenceScore(hypothesis: [String], references: [[String]], maxOrder: Int = 4,
                                     smoothing: Smoothing = .floor(epsilon: 0.1)) -> Score {
        score(statistics(hypothesis: hypothesis, references: references, maxOrder: maxOrder), smoothing: smoothing)
    }

    /// Corpus BLEU of raw strings with sacreBLEU's defaults: trailing whitespace stripped, 13a
    /// tokenization, case-sensitive, BLEU-4 with exponential smoothing
    /// (`sacrebleu.corpus_bleu(hyps, [refs]).score / 100`). `references[i]` are the references of
    /// `hypotheses[i]`.
    public static func sacreBLEU(hypotheses: [String], references: [[String]]) -> Score {
        let prepare = { (line: String) in
            var scalars = Array(line.unicodeScalars)
            while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return tokenize13a(String(view))
        }
        return corpusScore(hypotheses: hypotheses.map(prepare), references: references.map { $0.map(prepare) },
                           smoothing: .exponential)
    }

    static func ngramCounts(_ tokens: [String], _ n: Int) -> [ArraySlice<String>: Int] {
        var counts: [ArraySlice<String>: Int] = [:]
        guard tokens.count >= n else { return counts }
        for i in 0...(tokens.count - n) { counts[tokens[i..<(i + n)], default: 0] += 1 }
        return counts
    }

    // MARK: mteval-v13a tokenization

    /// Tokenizes a line as mteval-v13a.pl and sacreBLEU's `13a` tokenizer do: drops `<skipped>`,
    /// joins `-\n` hyphenation, unescapes `&quot; &amp; &lt; &gt;`, splits off ASCII punctuation and
    /// symbols (except `'`, `-`, `.`, `,`), splits `.` and `,` unless they sit between digits on
    /// that side, splits `-` after a digit, then splits on whitespace.
    public static func tokenize13a(_ line: String) -> [String] {
        var text = line.replacingOccurrences(of: "<skipped>", with: "")
            .replacingOccurrences(of: "-\n", with: "")
            .replacingOccurrences(of: "\n", with: " ")
        if text.contains("&") {
            text = text.replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">")
        }
        let space: Unicode.Scalar = " "
        var s: [Unicode.Scalar] = [space] + Array(text.unicodeScalars) + [space]

        // 1. isolate punctuation and symbols: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
        var out: [Unicode.Scalar] = []
        for ch in s {
            let v = ch.value
            let isolated = (0x7B...0x7E).contains(v) || (0x5B...0x60).contains(v) || (0x20...0x26).contains(v)
                || (0x28...0x2B).contains(v) || (0x3A...0x40).contains(v) || v == 0x2F
            if isolated { out += [space, ch, space] } else { out.append(ch) }
        }
        s = out
        let isDigit = { (c: Unicode.Scalar) in c.value >= 0x30 && c.value <= 0x39 }
        let isPeriodOrComma = { (c: Unicode.Scalar) in c == "." || c == "," }
        // 2–4: left-to-right, non-overlapping pair rewrites, as re.sub applies them.
        s = rewritePairs(s, { !isDigit($0) }, isPeriodOrComma) { [$0, space, $1, space] }   // ([^0-9])([.,]) → \1 \2␣
        s = rewritePairs(s, isPeriodOrComma, { !isDigit($0) }) { [space, $0, space, $1] }   // ([.,])([^0-9]) → ␣\1 \2
        s = rewritePairs(s, isDigit, { $0 == "-" }) { [$0, space, $1, space] }              // ([0-9])(-)    → \1 \2␣
        var tokens: [String] = [], current = String.UnicodeScalarView()
        for ch in s {
            if ch.properties.isWhitespace {
                if !current.isEmpty { tokens.append(String(current)); current = String.UnicodeScalarView() }
            } else { current.append(ch) }
        }
        if !current.isEmpty { tokens.append(String(current)) }
        return tokens
    }

    /// Replaces each non-overlapping adjacent pair (x, y) with first(x) and second(y), scanning
    /// left to right and resuming after a replaced pair.
    private static func rewritePairs(_ s: [Unicode.Scalar], _ first: (Unicode.Scalar) -> Bool, _ second: (Unicode.Scalar) -> Bool,
                                     _ replace: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count + s.count / 4)
        var i = 0
        while i < s.count {
            if i + 1 < s.count && first(s[i]) && second(s[i + 1]) {
                out += replace(s[i], s[i + 1])
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
