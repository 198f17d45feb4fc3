import Foundation

/// Band-limited sample-rate conversion with a Kaiser-windowed sinc, evaluated polyphase.
///
/// The filter, with time τ measured in *input* samples:
///
///     h(τ) = fc · sinc(fc · τ) · kaiser(τ / W),   sinc(x) = sin(πx) / (πx)
///     fc   = rolloff · min(1, targetRate / sourceRate)   (cutoff as a fraction of the input Nyquist)
///     W    = zeroCrossings / fc                          (half-width: `zeroCrossings` sinc lobes each side)
///     kaiser(x) = I0(β·√(1 − x²)) / I0(β) for |x| ≤ 1, else 0
///
/// Defaults: 16 zero crossings, rolloff 0.945, β = 8.6 (stopband ≈ −80 dB). Output sample `n` sits
/// at input time `n · sourceRate / targetRate` and is `Σₖ x[k] · h(t − k)`, samples outside the
/// signal being zero. With the rates reduced by their gcd to `up / down`, only `up` distinct
/// fractional positions occur, so the taps of each phase are computed once (when `up` is small
/// enough for the table to be cheap; otherwise per output sample).
///
/// ```swift
/// let r = Resampler(from: 44_100, to: 16_000)
/// let y = r.resample(x)          // y.count == ceil(x.count · 16000 / 44100)
/// ```
public struct Resampler: Sendable {
    public let sourceRate: Int
    public let targetRate: Int
    public let zeroCrossings: Int
    public let rolloff: Double
    public let beta: Double
    /// Rates reduced by their gcd: output advances `down` input samples every `up` outputs.
    let up: Int, down: Int
    /// Cutoff as a fraction of the input Nyquist, half-width in input samples, taps each side.
    let cutoff: Double, halfWidth: Double, taps: Int
    /// `[up, 2·taps]` phase table, or empty when `up` is too large for one.
    let table: [Float]

    public init(from sourceRate: Int, to targetRate: Int, zeroCrossings: Int = 16, rolloff: Double = 0.945, beta: Double = 8.6) {
        precondition(sourceRate > 0 && targetRate > 0, "Resampler: rates must be positive, got \(sourceRate) → \(targetRate)")
        precondition(zeroCrossings > 0 && rolloff > 0 && rolloff <= 1 && beta >= 0,
                     "Resampler: needs zeroCrossings > 0, 0 < rolloff ≤ 1, beta ≥ 0, got \(zeroCrossings), \(rolloff), \(beta)")
        self.sourceRate = sourceRate; self.targetRate = targetRate
        self.zeroCrossings = zeroCrossings; self.rolloff = rolloff; self.beta = beta
        var a = sourceRate, b = targetRate
        while b != 0 { (a, b) = (b, a % b) }
        up = targetRate / a; down = sourceRate / a
        cutoff = rolloff * Swift.min(1, Double(targetRate) / Double(sourceRate))
        halfWidth = Double(zeroCrossings) / cutoff
        taps = Int(halfWidth.rounded(.up))
        if up * 2 * taps <= 1 << 22 {
            var t = [Float](repeating: 0, count: up * 2 * taps)
            for phase in 0..<up {
                let frac = Double(phase) / Double(up)
                for j in 0..<(2 * taps) { t[phase * 2 * taps + j] = Float(Self.kernel(frac + Double(taps - 1 - j), cutoff, halfWidth, beta)) }
            }
            table = t
        } else {
            table = []
        }
    }

    /// h(τ) in Double.
    static func kernel(_ tau: Double, _ fc: Double, _ halfWidth: Double, _ beta: Double) -> Double {
        let x = tau / halfWidth
        if Swift.abs(x) >= 1 { return 0 }
        let arg = Double.pi * fc * tau
        let sinc = arg == 0 ? 1 : Foundation.sin(arg) / arg
        return fc * sinc * besselI0(beta * (1 - x * x).squareRoot()) / besselI0(beta)
    }

    /// The modified Bessel function I0 by its power series (converges fast for β ≲ 20).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0, k = 1.0
        let q = x * x / 4
        while term > sum * 1e-17 {
            term *= q / (k * k); sum += term; k += 1
        }
        return sum
    }

    /// The number of output samples for `inputCount` input samples: ⌈inputCount · up / down⌉.
    public func outputCount(for inputCount: Int) -> Int { (inputCount * up + down - 1) / down }

    /// The resampled signal.
    public func resample(_ samples: [Float]) -> [Float] {
        if up == down { return samples }
        let n = samples.count, outCount = outputCount(for: n), width = 2 * taps
        var out = [Float](repeating: 0, count: outCount)
        var scratch = [Float](repeating: 0, count: table.isEmpty ? width : 0)
        samples.withUnsafeBufferPointer { x in
            table.withUnsafeBufferPointer { tab in
                scratch.withUnsafeMutableBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { y in
                        for i in 0..<outCount {
                            let num = i * down                          // output time × up, in input units
                            let base = num / up, phase = num % up
                            let w: UnsafePointer<Float>
                            if tab.isEmpty {
                                let frac = Double(phase) / Double(up)
                                for j in 0..<width { s[j] = Float(Self.kernel(frac + Double(taps - 1 - j), cutoff, halfWidth, beta)) }
                                w = UnsafePointer(s.baseAddress!)
                            } else {
                                w = tab.baseAddress! + phase * width
                            }
                            let first = base - taps + 1                 // input index of tap 0
                            let lo = Swift.max(0, -first), hi = Swift.min(width, n - first)
                            var acc: Float = 0
                            if lo < hi { for j in lo..<hi { acc += x[first + j] * w[j] } }
                            y[i] = acc
                        }
                    }
                }
            }
        }
        return out
    }
}

extension AudioFile {
    /// The file as 16 kHz mono, ready for `WhisperMel.logMelSpectrogram`.
    public func whisperSamples() -> [Float] {
        Resampler(from: sampleRate, to: WhisperMel.sampleRate).resample(monoSamples())
    }
}
