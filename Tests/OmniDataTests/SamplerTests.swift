// ModalitySampler: group proportions follow the weights (binomial bounds computed here),
// seeds fix the sequence, a saved state resumes exactly.
import Foundation
import Testing
import OmniData

/// 60 text, 25 image, 15 audio samples, interleaved so indices do not reveal the group.
func mixedModalities() -> [Modality] {
    (0..<100).map { i in
        switch i % 20 {
        case 0..<12: .text
        case 12..<17: .image
        default: .audio
        }
    }
}

@Suite("ModalitySampler")
struct SamplerTests {
    @Test func groupRatiosFollowTheWeights() {
        let modalities = mixedModalities()
        let counts = Dictionary(grouping: modalities, by: { $0 }).mapValues(\.count)
        #expect(counts[.text]! > 0 && counts[.image]! > 0 && counts[.audio]! > 0)
        for (weights, expected) in [(ModalityWeights.default, [Modality.text: 0.6, .image: 0.3, .audio: 0.1]),
                                    (ModalityWeights(text: 1, image: 1, audio: 2), [.text: 0.25, .image: 0.25, .audio: 0.5])] {
            let sampler = ModalitySampler(modalities: modalities, weights: weights, seed: 3)
            let n = 20_000
            var drawn: [Modality: Int] = [:]
            for _ in 0..<n { drawn[modalities[sampler.next()], default: 0] += 1 }
            for (m, p) in expected {
                // Each group's count is Binomial(n, p); 5 standard deviations make a false alarm
                // (about 6e-7) practically impossible while still catching a wrong ratio
                // (0.6 vs 0.5 is a 45-sigma miss here).
                let sigma = (Double(n) * p * (1 - p)).squareRoot()
                let deviation = abs(Double(drawn[m, default: 0]) - Double(n) * p)
                #expect(deviation <= 5 * sigma, "\(m): \(drawn[m, default: 0]) of \(n), expected \(Double(n) * p) ± \(5 * sigma)")
            }
            #expect(drawn.keys.allSatisfy { expected[$0] != nil })
        }
    }

    @Test func withinAGroupEverySampleIsSeenBeforeAnyRepeats() {
        let modalities = mixedModalities()
        let sampler = ModalitySampler(modalities: modalities, weights: ModalityWeights(text: 0, image: 0, audio: 1), seed: 9)
        let audio = Set(modalities.indices.filter { modalities[$0] == .audio })
        let first = sampler.next(audio.count), second = sampler.next(audio.count)
        #expect(Set(first) == audio && Set(second) == audio)
        #expect(first != second) // reshuffled on cycling (15! orders; equal only by a bug)
        #expect(first != first.sorted())
    }

    @Test func epochsCountSteps() {
        let sampler = ModalitySampler(modalities: mixedModalities(), seed: 1, epochLength: 7)
        #expect(sampler.nextEpoch().count == 7)
        #expect(sampler.epoch == 0 && sampler.step == 7)
        _ = sampler.next(3)
        #expect(sampler.epoch == 1 && sampler.step == 3)
        #expect(sampler.nextEpoch().count == 4)
        // Default epoch length: samples in groups that are drawn (video has weight 0 by default).
        let withVideo = ModalitySampler(modalities: [.text, .video, .image, .text], seed: 0)
        #expect(withVideo.epochLength == 3)
        #expect(!withVideo.next(300).contains(1))
    }

    @Test func sameSeedSameSequenceDifferentSeedDifferent() {
        let m = mixedModalities()
        let a = ModalitySampler(modalities: m, seed: 42).next(500)
        let b = ModalitySampler(modalities: m, seed: 42).next(500)
        let c = ModalitySampler(modalities: m, seed: 43).next(500)
        #expect(a == b)
        #expect(a != c)
        #expect(a.allSatisfy { m.indices.contains($0) })
    }

    @Test func saveAndRestoreMidEpochContinuesIdentically() throws {
        let m = mixedModalities()
        let reference = ModalitySampler(modalities: m, seed: 5, epochLength: 40)
        let expected = reference.next(300)

        let original = ModalitySampler(modalities: m, seed: 5, epochLength: 40)
        let prefix = original.next(123) // mid-epoch (123 = 3 * 40 + 3) and mid-cycle of the groups
        #expect(prefix == Array(expected[..<123]))
        #expect(original.epoch == 3 && original.step == 3)
        let data = try JSONEncoder().encode(original.state)

        let resumed = ModalitySampler(modalities: m, seed: 999, epochLength: 40)
        _ = resumed.next(17) // its own position must be fully replaced
        resumed.restore(try JSONDecoder().decode(ModalitySampler.State.self, from: data))
        #expect(resumed.epoch == 3 && resumed.step == 3)
        #expect(resumed.state == original.state)
        #expect(resumed.next(177) == Array(expected[123...]))
        #expect(original.next(177) == Array(expected[123...]))
    }

    @Test func samplerOverAManifestUsesPrimaryModalities() throws {
        let url = try makeManifestFolder("""
        {"id": "t", "text": "x"}
        {"id": "i", "text": "cap", "image": "a.png"}
        {"id": "a", "audio": "b.wav", "image": "c.png"}
        """)
        let manifest = try Manifest.load(contentsOf: url)
        let sampler = ModalitySampler(manifest: manifest, weights: ModalityWeights(text: 0, image: 1, audio: 1), seed: 0)
        // Sample 2 has image and audio: its primary modality is image, so the audio group is empty.
        #expect(sampler.groups[Modality.allCases.firstIndex(of: .image)!] == [1, 2])
        #expect(sampler.groups[Modality.allCases.firstIndex(of: .audio)!] == [])
        #expect(Set(sampler.next(50)) == [1, 2])
    }

    @Test func noDrawableGroupStopsWithCounts() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = ModalitySampler(modalities: [.video, .video], seed: 0)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("ModalitySampler: no group has both samples and a positive weight (samples: text 0, image 0, audio 0, video 2"),
                "stderr was: \(stderr)")
    }

    @Test func restoringAForeignStateStopsWithSizes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let state = ModalitySampler(modalities: [.text, .image], seed: 0).state
            ModalitySampler(modalities: [.text, .text, .image], seed: 0).restore(state)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("ModalitySampler.restore: state was saved for group sizes [1, 1, 0, 0, 0, 0], this sampler has [2, 1, 0, 0, 0, 0]"),
                "stderr was: \(stderr)")
    }
}
