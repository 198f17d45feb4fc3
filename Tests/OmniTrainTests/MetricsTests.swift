import Foundation
import OmniData
import OmniTensor
import Testing
@testable import OmniTrain

@Suite struct RetrievalMetricsTests {
    @Test func handCheckedRanksAndPessimisticTies() {
        // Similarities (a rows × b columns):
        //   q0: [0.9, 0.1, 0.0]  → partner first              rank 1
        //   q1: [0.8, 0.5, 0.5]  → 0.8 above, a tie at 0.5    rank 3 (ties count against)
        //   q2: [0.0, 0.2, 0.1]  → 0.2 above                  rank 2
        let a = Tensor([Float](arrayLiteral: 1, 0, 0, 0, 1, 0, 0, 0, 1), shape: [3, 3])
        let b = Tensor([Float](arrayLiteral: 0.9, 0.8, 0.0, 0.1, 0.5, 0.2, 0.0, 0.5, 0.1), shape: [3, 3])   // columns are b rows
        let forward = RetrievalMetrics.recall(queries: a, candidates: b, ks: [1, 2, 3, 5])
        #expect(forward.ranks == [1, 3, 2])
        #expect(forward[1] == 1.0 / 3 && forward[2] == 2.0 / 3 && forward[3] == 1 && forward[5] == 1)
        #expect(forward.medianRank == 2)
        // Backward: b queries a. b rows: b0 = (0.9, 0.8, 0), b1 = (0.1, 0.5, 0.2), b2 = (0, 0.5, 0.1).
        let both = RetrievalMetrics.scores(a, b, ks: [1, 2])
        #expect(both.backward.ranks == [1, 1, 2])
        #expect(both.backward[1] == 2.0 / 3)
        #expect(both.chance == [1: 1.0 / 3, 2: 2.0 / 3])
        // Constant embeddings rank every partner last: no free hits.
        let constant = Tensor.ones([4, 2])
        let flat = RetrievalMetrics.scores(constant, constant, ks: [1, 3, 4])
        #expect(flat.forward.ranks == [4, 4, 4, 4] && flat.forward[1] == 0 && flat.forward[3] == 0 && flat.forward[4] == 1)
    }

    @Test(arguments: testSeeds) func recallMatchesFloat64Ranking(seed: UInt64) {
        let (n, e) = (40, 8)
        // Partners are noisy copies so recall is neither 0 nor 1.
        let x = randomTensor([n, e], seed: seed), noise = randomTensor([n, e], seed: seed + 50)
        let a = x, b = x + noise * 1.5
        let av = LossRef.rows(values(a), e), bv = LossRef.rows(values(b), e)
        func dot(_ p: [Double], _ q: [Double]) -> Double { zip(p, q).reduce(0) { $0 + $1.0 * $1.1 } }
        func ranks(_ q: [[Double]], _ c: [[Double]]) -> [Int] {
            (0..<n).map { i in 1 + (0..<n).filter { j in j != i && dot(q[i], c[j]) >= dot(q[i], c[i]) }.count }
        }
        let s = RetrievalMetrics.scores(a, b)
        let rf = ranks(av, bv), rb = ranks(bv, av)
        #expect(s.forward.ranks == rf)
        #expect(s.backward.ranks == rb)
        for k in [1, 5, 10] {
            #expect(s.forward[k] == Double(rf.filter { $0 <= k }.count) / Double(n))
            #expect(s.backward[k] == Double(rb.filter { $0 <= k }.count) / Double(n))
        }
        #expect(s.forward[1] > 0.05 && s.forward[10] < 1, "a non-trivial case: R@1 \(s.forward[1]), R@10 \(s.forward[10])")
    }

    @Test func everyPairOfADictionaryUsesSamplesWithBothModalities() {
        let (n, e) = (6, 4)
        let text = randomTensor([n, e], seed: 1), image = text + randomTensor([n, e], seed: 2) * 0.1
        let audio = randomTensor([n, e], seed: 3)
        let hasAudio = [true, false, true, true, false, true]
        let all = RetrievalMetrics.scores([.text: text, .image: image, .audio: audio], presence: [.audio: Tensor(hasAudio)], ks: [1])
        #expect(Set(all.keys) == [ModalityPair(.text, .image), ModalityPair(.text, .audio), ModalityPair(.image, .audio)])
        #expect(all[ModalityPair(.text, .image)]!.sampleCount == 6)
        #expect(all[ModalityPair(.text, .audio)]!.sampleCount == 4)
        let keep = Tensor([0, 2, 3, 5])
        let direct = RetrievalMetrics.scores(text.indexSelect(axis: 0, indices: keep), audio.indexSelect(axis: 0, indices: keep), ks: [1])
        #expect(all[ModalityPair(.text, .audio)] == direct)
        #expect(all[ModalityPair(.text, .image)]!.forward[1] == 1, "near-copies retrieve each other")
    }
}

@Suite struct ClassificationMetricsTests {
    @Test func matchesScikitLearn() throws {
        let fixture = try fixtureJSON("classification_metrics.json")
        for (index, c) in (fixture["cases"] as! [[String: Any]]).enumerated() {
            let report = ClassificationReport(labels: ints(c["labels"]), predictions: ints(c["predictions"]),
                                              classCount: (c["class_count"] as! NSNumber).intValue)
            let what = "case \(index)"
            #expect(report.confusion.counts == (c["confusion"] as! [[Any]]).map { ints($0) }, "\(what) confusion")
            expectNear(report.accuracy, (c["accuracy"] as! NSNumber).doubleValue, what + " accuracy")
            expectNear(report.macroF1, (c["macro_f1"] as! NSNumber).doubleValue, what + " macro-F1")
            expectNear(report.macroPrecision, (c["macro_precision"] as! NSNumber).doubleValue, what + " macro precision")
            expectNear(report.macroRecall, (c["macro_recall"] as! NSNumber).doubleValue, what + " macro recall")
            for (k, scores) in report.classes.enumerated() {
                expectNear(scores.precision, doubles(c["precision"])[k], "\(what) precision[\(k)]")
                expectNear(scores.recall, doubles(c["recall"])[k], "\(what) recall[\(k)]")
                expectNear(scores.f1, doubles(c["f1"])[k], "\(what) f1[\(k)]")
                #expect(scores.support == ints(c["support"])[k])
            }
        }
    }

    @Test func confusionMatrixMergesAndCounts() {
        var m = ConfusionMatrix(labels: [0, 1, 2, 2], predictions: [0, 2, 2, 1], classCount: 3)
        #expect(m.counts == [[1, 0, 0], [0, 0, 1], [0, 1, 1]])
        #expect(m.accuracy == 0.5 && m.support(2) == 2 && m.predictedCount(2) == 2)
        m.merge(ConfusionMatrix(labels: [1], predictions: [1], classCount: 3))
        #expect(m.total == 5 && m.accuracy == 0.6)
        #expect(ConfusionMatrix(classCount: 2).accuracy == 0)
    }
}

@Suite struct TextMetricsTests {
    @Test func bleuMatchesSacreBLEUAndNLTK() throws {
        let fixture = try fixtureJSON("text_metrics.json")
        for (name, entry) in fixture["corpora"] as! [String: [String: Any]] {
            let hyps = entry["hypotheses"] as! [String], refs = entry["references"] as! [[String]]
            // sacreBLEU: raw strings, 13a tokens, exp smoothing by default.
            let exp = entry["sacrebleu_exp"] as! [String: Any]
            let sacre = BLEU.sacreBLEU(hypotheses: hyps, references: refs)
            #expect(sacre.statistics.matches == ints(exp["counts"]), "\(name) matches")
            #expect(sacre.statistics.totals == ints(exp["totals"]), "\(name) totals")
            #expect(sacre.statistics.hypothesisLength == (exp["sys_len"] as! NSNumber).intValue, "\(name) sys_len")
            #expect(sacre.statistics.referenceLength == (exp["ref_len"] as! NSNumber).intValue, "\(name) ref_len")
            expectNear(sacre.score, (exp["score"] as! NSNumber).doubleValue, "\(name) sacreBLEU exp")
            expectNear(sacre.brevityPenalty, (exp["bp"] as! NSNumber).doubleValue, "\(name) BP")
            let tokens = (hyps.map(BLEU.tokenize13a), refs.map { $0.map(BLEU.tokenize13a) })
            for (key, smoothing) in [("sacrebleu_none", BLEU.Smoothing.none), ("sacrebleu_floor", .floor(epsilon: 0.1))] {
                let s = BLEU.corpusScore(hypotheses: tokens.0, references: tokens.1, smoothing: smoothing)
                expectNear(s.score, ((entry[key] as! [String: Any])["score"] as! NSNumber).doubleValue, "\(name) \(key)")
            }
            // NLTK: whitespace tokens.
            guard let nltk = entry["nltk_corpus"] as? NSNumber else { continue }
            let h = hyps.map { $0.split(separator: " ").map(String.init) }
            let r = refs.map { $0.map { $0.split(separator: " ").map(String.init) } }
            expectNear(BLEU.corpusScore(hypotheses: h, references: r).score, nltk.doubleValue, "\(name) NLTK corpus")
            expectNear(BLEU.corpusScore(hypotheses: h, references: r, smoothing: .floor(epsilon: 0.1)).score,
                       (entry["nltk_corpus_method1"] as! NSNumber).doubleValue, "\(name) NLTK corpus method1")
            for (i, expected) in doubles(entry["nltk_sentence_method1"]).enumerated() {
                expectNear(BLEU.sentenceScore(hypothesis: h[i], references: r[i]).score, expected, "\(name) NLTK sentence \(i)")
            }
        }
    }

    @Test func exponentialSmoothingIsExercised() throws {
        let entry = (try fixtureJSON("text_metrics.json")["corpora"] as! [String: [String: Any]])["sparse_matches"]!
        let exp = ((entry["sacrebleu_exp"] as! [String: Any])["score"] as! NSNumber).doubleValue
        let none = ((entry["sacrebleu_none"] as! [String: Any])["score"] as! NSNumber).doubleValue
        #expect(exp > 0.05 && none == 0, "the fixture has orders without matches, so the smoothing methods differ")
    }

    @Test func tokenizer13aMatchesSacreBLEU() throws {
        for item in try fixtureJSON("text_metrics.json")["tokenizer_13a"] as! [[String: Any]] {
            let line = item["line"] as! String
            #expect(BLEU.tokenize13a(line) == item["tokens"] as! [String], "line \(line.debugDescription)")
        }
    }

    @Test func rougeLMatchesRougeScore() throws {
        for item in try fixtureJSON("text_metrics.json")["rouge_l"] as! [[String: Any]] {
            let prediction = item["prediction"] as! String, references = item["references"] as! [String]
            #expect(ROUGE.tokenize(prediction) == item["prediction_tokens"] as! [String], "tokens of \(prediction.debugDescription)")
            let best = ROUGE.rougeL(prediction: prediction, references: references)
            let expected = item["best"] as! [String: NSNumber]
            expectNear(best.precision, expected["precision"]!.doubleValue, "precision \(prediction.debugDescription)")
            expectNear(best.recall, expected["recall"]!.doubleValue, "recall \(prediction.debugDescription)")
            expectNear(best.fmeasure, expected["fmeasure"]!.doubleValue, "F \(prediction.debugDescription)")
            for (r, each) in zip(references, item["each"] as! [[String: NSNumber]]) {
                let s = ROUGE.rougeL(predictionTokens: ROUGE.tokenize(prediction), referenceTokens: ROUGE.tokenize(r))
                expectNear(s.fmeasure, each["fmeasure"]!.doubleValue, "F vs \(r.debugDescription)")
            }
        }
        #expect(ROUGE.longestCommonSubsequence(Array("ABCBDAB"), Array("BDCABA")) == 4)
        let corpus = ROUGE.corpusScore(predictions: ["a b c", "x"], references: [["a c"], ["y"]])
        expectNear(corpus.fmeasure, (0.8 + 0) / 2, "corpus mean")
    }
}

@Suite struct ModalityBiasAndGateTests {
    @Test func biasScoreFollowsItsDefinition() {
        let bias = ModalityBias(fullAccuracy: 0.9, ablatedAccuracy: [.image: 0.3, .text: 0.8, .audio: 0.85])
        // The worked example of docs/metrics.md, and the coefficient-of-variation form.
        let d = [0.6, 0.1, 0.05], mean = d.reduce(0, +) / 3
        let std = (d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 3).squareRoot()
        expectNear(bias.score, std / mean / 2.0.squareRoot(), atol: 1e-12, "CV form")
        expectNear(bias.score, 0.70238, atol: 5e-6, "documented value")
        expectNear(bias.shares[.image]!, 0.8, "image share")
        expectNear(ModalityBias(fullAccuracy: 0.9, ablatedAccuracy: [.image: 0.6, .text: 0.65, .audio: 0.7]).score, 0.11547, atol: 5e-6,
                   "documented second example")
        // Equal reliance → 0; one modality carries everything → 1; negative drops clip to 0.
        #expect(ModalityBias(fullAccuracy: 0.8, ablatedAccuracy: [.image: 0.5, .text: 0.5]).score == 0)
        expectNear(ModalityBias(fullAccuracy: 0.8, ablatedAccuracy: [.image: 0.2, .text: 0.8, .audio: 0.85]).score, 1, "single modality")
        let unused = ModalityBias(fullAccuracy: 0.7, ablatedAccuracy: [.image: 0.75, .text: 0.7])
        #expect(unused.isDegenerate && unused.score == 0)
        // Scale-free: halving every drop leaves the score unchanged.
        let half = ModalityBias(fullAccuracy: 0.9, ablatedAccuracy: [.image: 0.6, .text: 0.85, .audio: 0.875])
        expectNear(half.score, bias.score, atol: 1e-12, "scale-free")
    }

    @Test func gateStatisticsPerTask() {
        var stats = GateStatistics()
        let captions: [Double] = [0.9, 0.7, 0.8, 0.95]
        for g in captions { stats.add(task: "caption", gates: [.image: g, .audio: 1 - g]) }
        stats.add(task: "transcribe", gates: [.audio: 0.99])
        let s = stats.summary(task: "caption", modality: .image)!
        let mean = captions.reduce(0, +) / 4
        let std = (captions.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4).squareRoot()
        #expect(s.count == 4)
        expectNear(s.mean, mean, "mean")
        expectNear(s.standardDeviation, std, "population std")
        #expect(s.minimum == 0.7 && s.maximum == 0.95)
        #expect(stats.tasks == ["caption", "transcribe"])
        #expect(stats.summary(task: "transcribe", modality: .image) == nil)

        // The tensor form skips gates of modalities a sample lacks.
        var batch = GateStatistics()
        let gates = Tensor([Float](arrayLiteral: 0.5, 0.25, 0.75, 0.0, 1.0, 0.5), shape: [3, 2])   // columns text, image
        batch.add(tasks: ["qa", "qa", "ocr"], gates: gates, modalities: [.text, .image], presence: [.image: Tensor([true, false, true])])
        #expect(batch.summary(task: "qa", modality: .image)!.count == 1)
        #expect(batch.summary(task: "qa", modality: .image)!.mean == 0.25)
        #expect(batch.summary(task: "qa", modality: .text)!.mean == 0.625)
        #expect(batch.summary(task: "ocr", modality: .text)!.mean == 1.0)
    }
}
