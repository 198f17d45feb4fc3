import Foundation
import OmniTensor
import Testing
@testable import OmniTrain

/// Float64 per-row log-softmax.
private func logSoftmax(_ row: [Double]) -> [Double] {
    let z = LossRef.logSumExp(row)
    return row.map { $0 - z }
}

/// Float64 token cross-entropy with smoothing; nil for ignored targets.
private func tokenLosses(_ logits: [Double], _ targets: [Int], vocabulary v: Int, ignore: Int, smoothing: Double) -> [Double?] {
    targets.enumerated().map { n, t in
        guard t != ignore else { return nil }
        let lp = logSoftmax(Array(logits[(n * v)..<((n + 1) * v)]))
        return (1 - smoothing) * -lp[t] + smoothing / Double(v) * lp.reduce(0) { $0 - $1 }
    }
}

private func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }

@Suite struct TokenLossTests {
    @Test func tokenCrossEntropyMatchesFloat64WithSmoothingAndIgnoreIndex() {
        let (b, t, v) = (2, 5, 7)
        let logits = randomTensor([b, t, v], seed: 3)
        let targets = [3, 0, -100, 6, 2, -100, -100, 1, 4, 5]
        let loss = TokenCrossEntropy(labelSmoothing: 0.1)
        let per = tokenLosses(values(logits), targets, vocabulary: v, ignore: -100, smoothing: 0.1)
        expectClose(loss(logits: logits, targets: Tensor(targets, shape: [b, t])), [mean(per.compactMap { $0 })], "mean")
        expectClose(loss(logits: logits, targets: Tensor(targets, shape: [b, t]), reduction: .sum), [per.compactMap { $0 }.reduce(0, +)], "sum")
        expectClose(loss(logits: logits, targets: Tensor(targets, shape: [b, t]), reduction: .none), per.map { $0 ?? 0 }, shape: [b, t], "none")
        checkGradients([logits], "TokenCrossEntropy",
                       op: { loss(logits: $0[0], targets: Tensor(targets, shape: [b, t])) },
                       reference: { [mean(tokenLosses($0[0], targets, vocabulary: v, ignore: -100, smoothing: 0.1).compactMap { $0 })] })
        // Every target ignored: 0, not NaN.
        let ignored = loss(logits: logits, targets: Tensor([Int](repeating: -100, count: b * t), shape: [b, t]))
        #expect(ignored.item() == 0)
    }

    @Test func maskedTokenLossCountsOnlyMaskedPositions() {
        let (b, t, v) = (2, 6, 9)
        let logits = randomTensor([b, t, v], seed: 21)
        let ids = [1, 4, 8, 0, 2, 2, 7, 3, 3, 5, 6, 1]
        let mask = [false, true, false, false, true, true, true, false, false, false, false, true]
        let maskedTargets = ids.enumerated().map { mask[$0.offset] ? $0.element : -1 }
        let reference = { (x: [Double]) in mean(tokenLosses(x, maskedTargets, vocabulary: v, ignore: -1, smoothing: 0).compactMap { $0 }) }
        let loss = MaskedTokenLoss()
        expectClose(loss(logits: logits, targets: Tensor(ids, shape: [b, t]), mask: Tensor(mask, shape: [b, t])), [reference(values(logits))], "masked CE")
        checkGradients([logits], "MaskedTokenLoss",
                       op: { loss(logits: $0[0], targets: Tensor(ids, shape: [b, t]), mask: Tensor(mask, shape: [b, t])) },
                       reference: { [reference($0[0])] })
        let none = loss(logits: logits, targets: Tensor(ids, shape: [b, t]), mask: Tensor([Bool](repeating: false, count: b * t), shape: [b, t]))
        #expect(none.item() == 0)
    }
}

@Suite struct MaskedReconstructionTests {
    /// Float64 MAE loss: per-patch mean squared error on masked patches, optional normalised targets.
    static func maeReference(_ pred: [Double], _ target: [Double], mask: [Bool], patch p: Int, normalize: Bool, eps: Double = 1e-6) -> Double {
        var total = 0.0, count = 0
        for (n, masked) in mask.enumerated() where masked {
            var goal = Array(target[(n * p)..<((n + 1) * p)])
            if normalize {
                let m = goal.reduce(0, +) / Double(p)
                let variance = goal.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(p - 1)
                goal = goal.map { ($0 - m) / (variance + eps).squareRoot() }
            }
            total += (0..<p).reduce(0) { $0 + (pred[n * p + $1] - goal[$1]) * (pred[n * p + $1] - goal[$1]) } / Double(p)
            count += 1
        }
        return count == 0 ? 0 : total / Double(count)
    }

    @Test(arguments: [false, true]) func maskedPatchLossMatchesMAE(normalize: Bool) {
        let (b, n, p) = (2, 5, 6)
        let prediction = randomTensor([b, n, p], seed: 31), target = randomTensor([b, n, p], seed: 32)
        let mask = [true, false, true, true, false, false, false, true, true, false]
        let loss = MaskedPatchLoss(normalizeTargets: normalize)
        let t = values(target)
        expectClose(loss(prediction: prediction, target: target, mask: Tensor(mask, shape: [b, n])),
                    [Self.maeReference(values(prediction), t, mask: mask, patch: p, normalize: normalize)], "MAE loss")
        checkGradients([prediction], "MaskedPatchLoss",
                       op: { loss(prediction: $0[0], target: target, mask: Tensor(mask, shape: [b, n])) },
                       reference: { [Self.maeReference($0[0], t, mask: mask, patch: p, normalize: normalize)] })
        #expect(loss(prediction: prediction, target: target, mask: Tensor([Bool](repeating: false, count: b * n), shape: [b, n])).item() == 0)
    }

    @Test func patchifyFollowsMAEOrderAndInverts() {
        let (b, c, h, w, p) = (2, 3, 4, 6, 2)
        let images = randomTensor([b, c, h, w], seed: 41)
        let x = values(images)
        let patches = images.patchified(patchSize: p)
        let (gh, gw) = (h / p, w / p)
        var expected = [Double](repeating: 0, count: b * gh * gw * p * p * c)
        for bi in 0..<b { for i in 0..<gh { for j in 0..<gw { for py in 0..<p { for px in 0..<p { for ch in 0..<c {
            let out = ((bi * gh * gw + i * gw + j) * p * p + py * p + px) * c + ch
            expected[out] = x[((bi * c + ch) * h + i * p + py) * w + j * p + px]
        } } } } } }
        expectClose(patches, expected, shape: [b, gh * gw, p * p * c], atol: 0, rtol: 0, "patchified")
        expectClose(patches.unpatchified(patchSize: p, height: h, width: w), x, shape: [b, c, h, w], atol: 0, rtol: 0, "round trip")
    }

    static func frameReference(_ pred: [Double], _ target: [Double], mask: [Bool], features f: Int, absolute: Bool) -> Double {
        var total = 0.0, count = 0
        for (n, masked) in mask.enumerated() where masked {
            for k in 0..<f {
                let d = pred[n * f + k] - target[n * f + k]
                total += absolute ? Swift.abs(d) : d * d
            }
            count += 1
        }
        return count == 0 ? 0 : total / Double(count * f)
    }

    @Test(arguments: [MaskedFrameLoss.Distance.squared, .absolute]) func maskedFrameLossMatchesFloat64(distance: MaskedFrameLoss.Distance) {
        let (b, t, f) = (3, 7, 4)
        let prediction = randomTensor([b, t, f], seed: 51), target = randomTensor([b, t, f], seed: 52)
        let mask = Masking.spanMask(batchSize: b, length: t, ratio: 0.45, spanLength: 2, generator: Generator(seed: 5)).toBoolArray()
        let loss = MaskedFrameLoss(distance: distance)
        let tv = values(target)
        let absolute = distance == .absolute
        expectClose(loss(prediction: prediction, target: target, mask: Tensor(mask, shape: [b, t])),
                    [Self.frameReference(values(prediction), tv, mask: mask, features: f, absolute: absolute)], "frame loss")
        checkGradients([prediction], "MaskedFrameLoss \(distance)",
                       op: { loss(prediction: $0[0], target: target, mask: Tensor(mask, shape: [b, t])) },
                       reference: { [Self.frameReference($0[0], tv, mask: mask, features: f, absolute: absolute)] })
    }
}

@Suite struct DistillationLossTests {
    /// T² · mean over rows of KL(softmax(t/T) ‖ softmax(s/T)).
    static func reference(_ s: [Double], _ t: [Double], classes c: Int, temperature tau: Double) -> Double {
        let rows = s.count / c
        var total = 0.0
        for r in 0..<rows {
            let ls = logSoftmax(s[(r * c)..<((r + 1) * c)].map { $0 / tau })
            let lt = logSoftmax(t[(r * c)..<((r + 1) * c)].map { $0 / tau })
            total += (0..<c).reduce(0) { $0 + Foundation.exp(lt[$1]) * (lt[$1] - ls[$1]) }
        }
        return tau * tau * total / Double(rows)
    }

    @Test(arguments: [1.0, 2.0, 4.0]) func matchesHintonWithTSquared(temperature: Double) {
        let student = randomTensor([2, 3, 5], seed: 61), teacher = randomTensor([2, 3, 5], seed: 62, low: -4, high: 4)
        let kd = DistillationLoss(temperature: Float(temperature))
        let t = values(teacher)
        expectClose(kd(student: student, teacher: teacher), [Self.reference(values(student), t, classes: 5, temperature: temperature)], "KD")
        checkGradients([student], "KD T=\(temperature)",
                       op: { kd(student: $0[0], teacher: teacher) },
                       reference: { [Self.reference($0[0], t, classes: 5, temperature: temperature)] })
        expectClose(kd(student: teacher, teacher: teacher), [0], atol: 1e-6, "identical logits")
    }

    @Test func teacherReceivesNoGradient() {
        let teacher = randomTensor([3, 4], seed: 63).requiringGrad()
        let student = randomTensor([3, 4], seed: 64).requiringGrad()
        DistillationLoss(temperature: 3)(student: student, teacher: teacher).backward()
        #expect(teacher.grad == nil)
        #expect(student.grad != nil)
    }
}

@Suite struct MaskingTests {
    @Test func randomMaskMasksExactlyTheRatioOfEachRealLength() {
        let lengths = [10, 7, 0, 10]
        let mask = Masking.randomMask(batchSize: 4, length: 10, ratio: 0.75, lengths: lengths, generator: Generator(seed: 1))
        #expect(mask.shape == [4, 10] && mask.dtype == .bool)
        let rows = mask.toBoolArray()
        for (b, n) in lengths.enumerated() {
            let row = Array(rows[(b * 10)..<((b + 1) * 10)])
            #expect(row.filter { $0 }.count == Masking.maskedCount(length: n, ratio: 0.75), "row \(b)")
            #expect(!row[n...].contains(true), "padding of row \(b) is never masked")
        }
        #expect(Masking.maskedCount(length: 7, ratio: 0.75) == 5)   // 5.25 → 5
        #expect(Masking.maskedCount(length: 10, ratio: 0.15) == 2)  // 1.5 → 2 (half away from zero)
        // Seeded: same seed, same mask; another seed, another mask.
        let again = Masking.randomMask(batchSize: 4, length: 10, ratio: 0.75, lengths: lengths, generator: Generator(seed: 1))
        let other = Masking.randomMask(batchSize: 4, length: 10, ratio: 0.75, lengths: lengths, generator: Generator(seed: 2))
        #expect(again.toBoolArray() == rows)
        #expect(other.toBoolArray() != rows)
        // Every position is about equally likely (uniform subsets).
        var hits = [Int](repeating: 0, count: 8)
        let g = Generator(seed: 3)
        for _ in 0..<400 {
            for (i, m) in Masking.randomMask(batchSize: 1, length: 8, ratio: 0.5, generator: g).toBoolArray().enumerated() where m { hits[i] += 1 }
        }
        #expect(hits.allSatisfy { $0 > 150 && $0 < 250 }, "position frequencies \(hits) of 400 draws at p = 0.5")
    }

    /// Maximal runs of true in a row.
    func runs(_ row: [Bool]) -> [Int] {
        var out: [Int] = [], current = 0
        for m in row { if m { current += 1 } else if current > 0 { out.append(current); current = 0 } }
        if current > 0 { out.append(current) }
        return out
    }

    @Test func spanMaskPlacesNonOverlappingSpans() {
        let g = Generator(seed: 11)
        for trial in 0..<50 {
            let length = 20 + trial % 13, ratio = [0.3, 0.5, 0.65][trial % 3], span = [1, 3, 4, 10][trial % 4]
            let mask = Masking.spanMask(batchSize: 2, length: 40, ratio: ratio, spanLength: span, lengths: [length, 40], generator: g).toBoolArray()
            for (b, n) in [length, 40].enumerated() {
                let row = Array(mask[(b * 40)..<((b + 1) * 40)])
                let k = Masking.maskedCount(length: n, ratio: ratio)
                #expect(row.filter { $0 }.count == k, "trial \(trial) row \(b): exact count")
                #expect(!row[n...].contains(true), "padding never masked")
                // Spans: ⌈k/span⌉ of them, all of length span except possibly one; runs are unions of touching spans.
                let spans = (k + span - 1) / span
                let r = runs(row)
                #expect(r.count <= spans && r.allSatisfy { $0 >= Swift.min(span, k - span * (spans - 1)) }, "trial \(trial): runs \(r) for \(spans) spans of \(span)")
            }
        }
        let a = Masking.spanMask(batchSize: 3, length: 50, ratio: 0.5, spanLength: 5, generator: Generator(seed: 4)).toBoolArray()
        let b = Masking.spanMask(batchSize: 3, length: 50, ratio: 0.5, spanLength: 5, generator: Generator(seed: 4)).toBoolArray()
        #expect(a == b, "seeded")
        #expect(Masking.spanMask(batchSize: 1, length: 9, ratio: 1, spanLength: 4, generator: g).toBoolArray().allSatisfy { $0 })
        #expect(!Masking.spanMask(batchSize: 1, length: 9, ratio: 0, spanLength: 4, generator: g).toBoolArray().contains(true))
    }

    @Test func corruptTokensFollowsBERT() {
        let (b, t) = (8, 64)
        let g = Generator(seed: 21)
        let ids = Tensor.randint([b, t], low: 5, high: 1000, generator: g)
        var eligible = [Bool](repeating: true, count: b * t)
        for row in 0..<b { eligible[row * t] = false; for p in (t - row * 4)..<t { eligible[row * t + p] = false } }   // [CLS] and padding
        let out = Masking.corruptTokens(ids, eligible: Tensor(eligible, shape: [b, t]), ratio: 0.15, maskTokenID: 3,
                                        vocabularySize: 1000, generator: Generator(seed: 22))
        let original = ids.toIntArray(), corrupted = out.inputs.toIntArray(), mask = out.mask.toBoolArray()
        var masked = 0, replacedByMask = 0, kept = 0, expectedCount = 0
        for row in 0..<b {
            let rowEligible = (0..<t).filter { eligible[row * t + $0] }.count
            expectedCount += Masking.maskedCount(length: rowEligible, ratio: 0.15)
            #expect((0..<t).filter { mask[row * t + $0] }.count == Masking.maskedCount(length: rowEligible, ratio: 0.15))
        }
        for i in 0..<(b * t) {
            if !mask[i] { #expect(corrupted[i] == original[i], "unmasked position \(i) unchanged"); continue }
            #expect(eligible[i], "only eligible positions are chosen")
            masked += 1
            if corrupted[i] == 3 { replacedByMask += 1 } else if corrupted[i] == original[i] { kept += 1 }
        }
        // 58 chosen positions: ~80% [MASK], ~10% kept (fixed seed; generous bounds).
        #expect(masked == expectedCount && masked == 58)
        #expect(Double(replacedByMask) / Double(masked) > 0.65 && Double(replacedByMask) / Double(masked) < 0.92)
        #expect(Double(kept) / Double(masked) < 0.25)
        #expect(out.inputs.dtype == .int64)
    }
}
