// Misuse of the audio API stops with a message naming the shapes or values.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct AudioMisuseTests {
    @Test func wrongFilterShapeNamesShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = WhisperMel.logMelSpectrogram(samples: [Float](repeating: 0, count: 1_600), nMels: 80,
                                             filters: Tensor.zeros([80, 200]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("filters must be [80, 201], got [80, 200]"), "stderr was: \(stderr)")
    }

    @Test func nonPositiveRateNamesRates() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Resampler(from: 0, to: 16_000)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("rates must be positive, got 0 → 16000"), "stderr was: \(stderr)")
    }

    @Test func tooShortForReflectPaddingNamesCounts() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = STFT.transform([0, 1, 2], nFft: 16, hop: 4)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("reflect padding of 8 needs more than 8 samples, got 3"), "stderr was: \(stderr)")
    }
}
