// SpecAugment's masks against a reference built here from the same random draws (the documented
// order: per frequency mask width then start, then per time mask width then start), cell by cell.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct SpecAugmentTests {
    /// The reference: replays the draws on its own generator and masks a Double copy.
    func reference(_ x: [Float], mels: Int, frames: Int, augment a: SpecAugment, seed: UInt64, items: Int = 1)
        -> (values: [Float], masked: [Bool], regions: [[(axis: String, range: Range<Int>)]]) {
        let g = Generator(seed: seed)
        var out = x, masked = [Bool](repeating: false, count: x.count), regions: [[(String, Range<Int>)]] = []
        for b in 0..<items {
            let base = b * mels * frames
            let fill: Float = a.maskValue == .zero ? 0
                : Float(x[base..<(base + mels * frames)].reduce(0.0) { $0 + Double($1) } / Double(mels * frames))
            var item: [(String, Range<Int>)] = []
            let fMax = min(a.maxFrequencyWidth, mels)
            for _ in 0..<a.frequencyMaskCount {
                let f = g.nextInt(below: fMax + 1), f0 = g.nextInt(below: mels - f + 1)
                item.append(("frequency", f0..<(f0 + f)))
            }
            var tMax = min(a.maxTimeWidth, frames)
            if let p = a.maxTimeProportion { tMax = min(tMax, Int(floor(p * Double(frames)))) }
            for _ in 0..<a.timeMaskCount {
                let t = g.nextInt(below: tMax + 1), t0 = g.nextInt(below: frames - t + 1)
                item.append(("time", t0..<(t0 + t)))
            }
            for (axis, range) in item {
                for m in 0..<mels {
                    for t in 0..<frames where (axis == "frequency" ? range.contains(m) : range.contains(t)) {
                        out[base + m * frames + t] = fill; masked[base + m * frames + t] = true
                    }
                }
            }
            regions.append(item)
        }
        return (out, masked, regions)
    }

    @Test(arguments: [UInt64(1), 2, 3, 42])
    func masksMatchTheReference(seed: UInt64) {
        let mels = 20, frames = 50
        let x = Tensor.normal([mels, frames], generator: Generator(seed: 100 + seed))
        let input = x.toArray()
        for value in [SpecAugment.MaskValue.zero, .mean] {
            let a = SpecAugment(frequencyMaskCount: 2, maxFrequencyWidth: 5, timeMaskCount: 3, maxTimeWidth: 10,
                                maxTimeProportion: 0.15, maskValue: value)
            let y = a.apply(to: x, generator: Generator(seed: seed))
            #expect(y.shape == [mels, frames])
            let ref = reference(input, mels: mels, frames: frames, augment: a, seed: seed)
            let got = y.toArray()
            #expect(got == ref.values, "seed \(seed) \(value): masked spectrogram differs from the reference")
            // unmasked cells are the input, bit for bit; masked ones hold the fill value
            for i in 0..<got.count where !ref.masked[i] { #expect(got[i].bitPattern == input[i].bitPattern) }
            #expect(ref.masked.contains(true), "seed \(seed): the draws masked nothing, pick another seed")
            // masks(...) reports the same regions
            let regions = a.masks(melCount: mels, frameCount: frames, generator: Generator(seed: seed))
            #expect(regions.map { "\($0.axis.rawValue)\($0.range)" } == ref.regions[0].map { "\($0.axis)\($0.range)" })
            for r in regions where r.axis == .time { #expect(r.width <= 7) }      // ⌊0.15 · 50⌋
            for r in regions where r.axis == .frequency { #expect(r.width <= 5) }
        }
    }

    @Test func batchItemsDrawInTurn() {
        let x = Tensor.normal([3, 16, 40], generator: Generator(seed: 7))
        let a = SpecAugment(frequencyMaskCount: 1, maxFrequencyWidth: 8, timeMaskCount: 2, maxTimeWidth: 12, maskValue: .mean)
        let y = a.apply(to: x, generator: Generator(seed: 5))
        let ref = reference(x.toArray(), mels: 16, frames: 40, augment: a, seed: 5, items: 3)
        #expect(y.toArray() == ref.values)
        #expect(ref.regions[0].map(\.range) != ref.regions[1].map(\.range))
    }

    @Test func widthLimitsAndProportionCap() {
        // F larger than the mel count and T larger than the frame count are capped; p caps time masks.
        let a = SpecAugment(frequencyMaskCount: 1, maxFrequencyWidth: 100, timeMaskCount: 1, maxTimeWidth: 1000, maxTimeProportion: 0.2)
        #expect(a.timeWidthLimit(frameCount: 30) == 6)
        var maxF = 0, maxT = 0
        let g = Generator(seed: 9)
        for _ in 0..<400 {
            for m in a.masks(melCount: 8, frameCount: 30, generator: g) {
                #expect(m.start >= 0 && m.range.upperBound <= (m.axis == .frequency ? 8 : 30))
                if m.axis == .frequency { maxF = max(maxF, m.width) } else { maxT = max(maxT, m.width) }
            }
        }
        #expect(maxF == 8 && maxT == 6)       // the caps are reached, never exceeded
        // No masks: the input comes back unchanged and nothing is drawn.
        let none = SpecAugment(frequencyMaskCount: 0, timeMaskCount: 0)
        let x = Tensor.normal([4, 9], generator: Generator(seed: 1))
        let g2 = Generator(seed: 3), before = g2.state
        #expect(none.apply(to: x, generator: g2).toArray() == x.toArray() && g2.state == before)
        let defaults = SpecAugment()
        #expect(defaults.frequencyMaskCount == 2 && defaults.maxFrequencyWidth == 27 && defaults.timeMaskCount == 2 && defaults.maxTimeWidth == 100)
    }
}
