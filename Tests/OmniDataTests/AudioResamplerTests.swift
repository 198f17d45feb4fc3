// The resampler against the analytic signal and a Float64 direct windowed-sinc of the same filter,
// written here from its documented formula.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

/// I0 by its power series, in Double.
private func refI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    for k in 1..<60 { term *= (x / 2) * (x / 2) / Double(k * k); sum += term }
    return sum
}

/// Direct Σₖ x[k]·h(t − k) with h the Kaiser-windowed sinc, t = n·source/target, all in Double.
private func referenceResample(_ x: [Double], from source: Int, to target: Int,
                               zeroCrossings: Int = 16, rolloff: Double = 0.945, beta: Double = 8.6) -> [Double] {
    let fc = rolloff * min(1, Double(target) / Double(source)), width = Double(zeroCrossings) / fc
    let count = Int((Double(x.count) * Double(target) / Double(source)).rounded(.up))
    return (0..<count).map { n in
        let t = Double(n) * Double(source) / Double(target)
        var acc = 0.0
        for k in max(0, Int(t - width) - 1)...min(x.count - 1, Int(t + width) + 1) {
            let tau = t - Double(k), u = tau / width
            guard abs(u) < 1 else { continue }
            let a = Double.pi * fc * tau
            let h = fc * (a == 0 ? 1 : sin(a) / a) * refI0(beta * (1 - u * u).squareRoot()) / refI0(beta)
            acc += x[k] * h
        }
        return acc
    }
}

@Suite struct AudioResamplerTests {
    @Test(arguments: [(44_100, 16_000), (16_000, 22_050), (48_000, 16_000), (8_000, 12_000)])
    func sineMatchesAnalytic(rates: (Int, Int)) {
        let (source, target) = rates
        let freq = 440.0, n = source / 10
        let x = (0..<n).map { Float(sin(2 * Double.pi * freq * Double($0) / Double(source))) }
        let y = Resampler(from: source, to: target).resample(x)
        #expect(y.count == (n * target + source - 1) / source)
        let margin = 200                                           // beyond the filter's reach of the edges
        var worst = 0.0
        for i in margin..<(y.count - margin) {
            let expected = sin(2 * Double.pi * freq * Double(i) / Double(target))
            worst = max(worst, abs(Double(y[i]) - expected))
        }
        #expect(worst < 1e-4, "\(source) → \(target): max |y − sin| = \(worst)")
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func matchesFloat64DirectWindowedSinc(seed: UInt64) {
        let x = Tensor.uniform([500], low: -1, high: 1, generator: Generator(seed: seed)).toArray()
        for (source, target) in [(44_100, 16_000), (16_000, 44_100), (22_050, 16_000)] {
            let y = Resampler(from: source, to: target).resample(x)
            let e = referenceResample(x.map(Double.init), from: source, to: target)
            #expect(y.count == e.count)
            let worst = zip(y, e).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst < 2e-6, "\(source) → \(target): max diff \(worst)")
        }
    }

    /// A tone above the new Nyquist is removed rather than aliased.
    @Test func rejectsAboveNyquist() {
        let source = 44_100, n = 8_820
        let x = (0..<n).map { Float(sin(2 * Double.pi * 10_000 * Double($0) / Double(source))) }
        let y = Resampler(from: source, to: 16_000).resample(x)
        let inner = y[300..<(y.count - 300)]
        let rms = (inner.map { Double($0) * Double($0) }.reduce(0, +) / Double(inner.count)).squareRoot()
        #expect(rms < 1e-3, "aliased rms \(rms)")
    }

    @Test func sameRateIsIdentity() {
        let x: [Float] = [0.5, -0.25, 1, 0]
        #expect(Resampler(from: 16_000, to: 16_000).resample(x) == x)
        #expect(Resampler(from: 16_000, to: 8_000).resample([]) == [])
    }
}
