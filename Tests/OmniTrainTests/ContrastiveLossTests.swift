import Foundation
import OmniData
import OmniNN
import OmniTensor
import Testing
@testable import OmniTrain

@Suite struct ContrastiveLossTests {
    let b = 6, e = 5

    /// Random L2-normalised embeddings [B, E] and their Double rows.
    func embeddings(seed: UInt64) -> (Tensor, [[Double]]) {
        let raw = randomTensor([b, e], seed: seed)
        let rows = LossRef.rows(values(raw), e).map { LossRef.normalized($0) }
        return (raw.l2Normalized(axis: -1), rows)
    }

    @Test func l2NormalizationMatchesFloat64AndHasFiniteGradientAtZero() {
        let x = randomTensor([4, 3], seed: 5)
        expectClose(x.l2Normalized(), LossRef.rows(values(x), 3).flatMap { LossRef.normalized($0) }, "l2Normalized")
        checkGradients([x], "l2Normalized", op: { $0[0].l2Normalized() },
                       reference: { LossRef.rows($0[0], 3).flatMap { LossRef.normalized($0) } })
        // A zero row stays zero and gets a finite gradient (x · rsqrt(max(Σx², ε²))).
        let zero = Tensor.zeros([1, 3]).requiringGrad()
        let y = zero.l2Normalized()
        y.sum().backward()
        #expect(y.toArray() == [0, 0, 0])
        #expect(zero.grad!.toArray().allSatisfy { $0.isFinite })
    }

    @Test(arguments: testSeeds) func symmetricInfoNCEMatchesFloat64(seed: UInt64) {
        let (text, t) = embeddings(seed: seed), (image, i) = embeddings(seed: seed + 100)
        let scale = LogitScale(initialTemperature: 0.07)
        let out = ContrastiveLoss(pairing: .allPairs)([.text: text, .image: image], scale: scale())
        let expected = LossRef.infoNCE(t, i, scale: 1 / 0.07)
        expectClose(out.total, [expected], atol: 1e-5, rtol: 1e-5, "total")
        expectClose(out.pairs[ModalityPair(.text, .image)]!, [expected], atol: 1e-5, rtol: 1e-5, "text_image")
        #expect(out.sampleCounts == [ModalityPair(.text, .image): b])
    }

    @Test func anchorAndAllPairsNameTheRightPairsAndAverageThem() {
        let (text, t) = embeddings(seed: 1), (image, i) = embeddings(seed: 2), (audio, a) = embeddings(seed: 3)
        let input: [Modality: Tensor] = [.text: text, .image: image, .audio: audio]
        let s = 10.0
        let anchored = ContrastiveLoss(pairing: .anchor(.text))(input, scale: Tensor([Float(s)], shape: []))
        #expect(Set(anchored.pairs.keys) == [ModalityPair(.text, .image), ModalityPair(.text, .audio)])
        let ti = LossRef.infoNCE(t, i, scale: s), ta = LossRef.infoNCE(t, a, scale: s), ia = LossRef.infoNCE(i, a, scale: s)
        expectClose(anchored.total, [(ti + ta) / 2], atol: 1e-5, rtol: 1e-5, "anchor total")
        expectClose(anchored.pairs[ModalityPair(.audio, .text)]!, [ta], atol: 1e-5, rtol: 1e-5, "text_audio")

        let all = ContrastiveLoss(pairing: .allPairs)(input, scale: Tensor([Float(s)], shape: []))
        #expect(all.pairs.count == 3)
        expectClose(all.total, [(ti + ta + ia) / 3], atol: 1e-5, rtol: 1e-5, "all-pairs total")
        expectClose(all.pairs[ModalityPair(.image, .audio)]!, [ia], atol: 1e-5, rtol: 1e-5, "image_audio")

        let listed = ContrastiveLoss(pairing: .pairs([ModalityPair(.image, .audio), ModalityPair(.text, .video)]))(input, scale: Tensor([Float(s)], shape: []))
        #expect(Array(listed.pairs.keys) == [ModalityPair(.image, .audio)], "a pair whose modality is absent is skipped")
        // An anchor missing from the batch: nothing to contrast, zero loss without gradient.
        let none = ContrastiveLoss(pairing: .anchor(.dicom))(input, scale: Tensor([Float(s)], shape: []))
        #expect(none.pairs.isEmpty && none.total.item() == 0 && !none.total.requiresGrad)
    }

    @Test func samplesMissingAModalityAreExcludedFromThatPair() {
        let (text, t) = embeddings(seed: 7), (image, i) = embeddings(seed: 8)
        // Audio rows of samples without audio hold NaN: any use of them would poison the loss.
        var audioValues = values(randomTensor([b, e], seed: 9))
        let hasAudio = [true, false, true, true, false, true]
        for r in 0..<b where !hasAudio[r] { for c in 0..<e { audioValues[r * e + c] = .nan } }
        let audio = Tensor(audioValues, shape: [b, e])
        let a = LossRef.rows(audioValues, e)
        let keep = (0..<b).filter { hasAudio[$0] }
        let s = 1 / 0.07
        let out = ContrastiveLoss(pairing: .allPairs)([.text: text, .image: image, .audio: audio],
                                                     presence: [.audio: Tensor(hasAudio)], scale: LogitScale()())
        let ta = LossRef.infoNCE(keep.map { t[$0] }, keep.map { a[$0] }, scale: s)
        let ia = LossRef.infoNCE(keep.map { i[$0] }, keep.map { a[$0] }, scale: s)
        let ti = LossRef.infoNCE(t, i, scale: s)
        expectClose(out.pairs[ModalityPair(.text, .audio)]!, [ta], atol: 1e-5, rtol: 1e-5, "text_audio on 4 samples")
        expectClose(out.pairs[ModalityPair(.image, .audio)]!, [ia], atol: 1e-5, rtol: 1e-5, "image_audio on 4 samples")
        expectClose(out.pairs[ModalityPair(.text, .image)]!, [ti], atol: 1e-5, rtol: 1e-5, "text_image on all 6")
        expectClose(out.total, [(ta + ia + ti) / 3], atol: 1e-5, rtol: 1e-5, "total")
        #expect(out.sampleCounts[ModalityPair(.text, .audio)] == 4)

        // A pair with a single shared sample has no negatives and is left out (but counted).
        let single = [true, false, false, false, false, false]
        let out1 = ContrastiveLoss(pairing: .allPairs)([.text: text, .image: image], presence: [.image: Tensor(single)], scale: LogitScale()())
        #expect(out1.pairs.isEmpty && out1.sampleCounts[ModalityPair(.text, .image)] == 1 && out1.total.item() == 0)
    }

    @Test func gradientsReachEmbeddingsAndTemperature() {
        let n = 4, width = 3
        let hasAudio = [true, true, false, true]
        let keep = (0..<n).filter { hasAudio[$0] }
        let inputs = [randomTensor([n, width], seed: 11), randomTensor([n, width], seed: 12), randomTensor([n, width], seed: 13),
                      Tensor([Float(2.1)], shape: [])]
        let logitScale = LogitScale()
        checkGradients(inputs, atol: 2e-4, rtol: 2e-3, "InfoNCE",
                       op: { x in
                           logitScale.logScale = x[3]
                           return ContrastiveLoss(pairing: .anchor(.text))(
                               [.text: x[0].l2Normalized(), .image: x[1].l2Normalized(), .audio: x[2].l2Normalized()],
                               presence: [.audio: Tensor(hasAudio)], scale: logitScale()).total
                       },
                       reference: { x in
                           let t = LossRef.rows(x[0], width).map { LossRef.normalized($0) }
                           let i = LossRef.rows(x[1], width).map { LossRef.normalized($0) }
                           let a = LossRef.rows(x[2], width).map { LossRef.normalized($0) }
                           let s = Foundation.exp(x[3][0])
                           return [(LossRef.infoNCE(t, i, scale: s) + LossRef.infoNCE(keep.map { t[$0] }, keep.map { a[$0] }, scale: s)) / 2]
                       })
    }

    @Test func temperatureIsClampedLikeCLIP() throws {
        let logitScale = LogitScale()
        #expect(logitScale.logScale.shape == [])
        #expect(Swift.abs(logitScale.scale - 1 / 0.07) < 1e-4)
        #expect(Swift.abs(logitScale.temperature - 0.07) < 1e-6)
        #expect(logitScale.namedParameters().map(\.path) == ["logit_scale"])

        // Above the range: the scale stops at 100 (τ = 0.01) and the gradient is zero.
        logitScale.logScale = Tensor([Float(6)], shape: [])
        #expect(Swift.abs(logitScale.scale - 100) < 1e-3)
        let (_, grads) = valueAndGrad(logitScale) { $0().sum() }
        #expect(grads["logit_scale"]!.item() == 0)
        #expect(logitScale.clampParameter())
        #expect(Swift.abs(logitScale.logScale.item() - Foundation.log(Float(100))) < 1e-6)
        #expect(!logitScale.clampParameter(), "already inside: unchanged")
        // Inside the range the gradient of exp is the scale itself.
        let (value, inside) = valueAndGrad(logitScale) { $0().sum() }
        #expect(Swift.abs(inside["logit_scale"]!.item() - value.item()) < 1e-3)

        // Below the range: the scale stops at 1 (τ = 1).
        logitScale.logScale = Tensor([Float(-2)], shape: [])
        #expect(logitScale.scale == 1)
        logitScale.clampParameter()
        #expect(logitScale.logScale.item() == 0)

        // Custom bounds.
        let narrow = LogitScale(initialTemperature: 0.1, minimumTemperature: 0.05, maximumTemperature: 0.2)
        narrow.logScale = Tensor([Float(10)], shape: [])
        #expect(Swift.abs(narrow.scale - 20) < 1e-4)
    }
}
