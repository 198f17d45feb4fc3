// Vibration signals of a rotating machine with labelled fault signatures, for the demo corpus's
// industrial part. The signatures follow the textbook spectra of each fault (e.g. Randall,
// "Vibration-based Condition Monitoring", ch. 2 and 5): imbalance raises the 1× shaft-speed line,
// misalignment the 2× line (and axial vibration), mechanical looseness many harmonics and
// half-orders, rolling-element bearing faults periodic impacts at the fault frequency that ring
// a structural resonance.
import Foundation
import OmniTensor

/// Machine conditions the synthesizer can produce.
public enum MachineCondition: String, CaseIterable, Codable, Sendable {
    case normal, imbalance, misalignment, looseness
    case outerRaceFault = "outer_race_fault"
    case innerRaceFault = "inner_race_fault"

    /// Plain-language description used in captions and defect explanations.
    public var phrase: String {
        switch self {
        case .normal: return "a healthy machine"
        case .imbalance: return "an imbalanced rotor"
        case .misalignment: return "a misaligned shaft"
        case .looseness: return "mechanical looseness"
        case .outerRaceFault: return "an outer race bearing fault"
        case .innerRaceFault: return "an inner race bearing fault"
        }
    }
}

/// Three-axis (x, y, axial) acceleration of a shaft turning at 20–40 Hz.
public enum VibrationSynthesizer {
    /// `[3, rate·seconds]` float32 samples in g, and the shaft speed used (Hz).
    public static func signal(_ condition: MachineCondition, seconds: Double = 1, rate: Int = 2000,
                              generator: Generator) -> (samples: Tensor, shaftHz: Double) {
        precondition(seconds > 0 && rate >= 200, "VibrationSynthesizer: needs seconds > 0 and rate ≥ 200 Hz")
        let n = Int(seconds * Double(rate))
        let u = { generator.nextDouble() }
        let f0 = 20 + 20 * u()                                   // shaft speed, Hz
        let phase = (0..<8).map { _ in 2 * Double.pi * u() }
        let resonance = 350 + 250 * u()                          // structural resonance excited by impacts, Hz
        // bearing defect frequencies as multiples of shaft speed (a typical deep-groove bearing)
        let bpfo = 3.58 * f0, bpfi = 5.42 * f0
        var out = [Float](repeating: 0, count: 3 * n)
        var impactPhase = u()
        for i in 0..<n {
            let t = Double(i) / Double(rate)
            var x = 0.05 * sin(2 * .pi * f0 * t + phase[0])      // residual 1× in every machine
            var y = 0.05 * cos(2 * .pi * f0 * t + phase[0])
            var z = 0.02 * sin(2 * .pi * 2 * f0 * t + phase[1])
            switch condition {
            case .normal:
                break
            case .imbalance:
                x += 0.6 * sin(2 * .pi * f0 * t + phase[2])
                y += 0.6 * cos(2 * .pi * f0 * t + phase[2])
            case .misalignment:
                x += 0.35 * sin(2 * .pi * 2 * f0 * t + phase[3])
                y += 0.25 * sin(2 * .pi * 2 * f0 * t + phase[4])
                z += 0.45 * sin(2 * .pi * f0 * t + phase[5]) + 0.3 * sin(2 * .pi * 2 * f0 * t + phase[5])
            case .looseness:
                for h in 1...8 { x += 0.12 / Double(h).squareRoot() * sin(2 * .pi * Double(h) * f0 * t + phase[h % 8]) }
                for h in [0.5, 1.5, 2.5] { y += 0.1 * sin(2 * .pi * h * f0 * t + phase[6]) }
            case .outerRaceFault, .innerRaceFault:
                let rate = condition == .outerRaceFault ? bpfo : bpfi
                // time since the last impact, with ±1 % jitter of the impact period absorbed in phase
                let cycles = rate * t + impactPhase
                let since = (cycles - cycles.rounded(.down)) / rate
                // inner-race impacts are modulated by shaft rotation (the defect moves through the load zone)
                let amplitude = condition == .innerRaceFault ? 0.5 * (1 + cos(2 * .pi * f0 * t + phase[7])) : 0.8
                let ring = amplitude * exp(-since * 900) * sin(2 * .pi * resonance * since)
                x += ring
                y += 0.6 * ring
            }
            impactPhase += (u() - 0.5) * 0.002
            x += 0.04 * gaussian(generator); y += 0.04 * gaussian(generator); z += 0.04 * gaussian(generator)
            out[i] = Float(x); out[n + i] = Float(y); out[2 * n + i] = Float(z)
        }
        return (Tensor(out, shape: [3, n]), f0)
    }

    static func gaussian(_ g: Generator) -> Double {
        let a = max(g.nextDouble(), 1e-300), b = g.nextDouble()
        return (-2 * log(a)).squareRoot() * cos(2 * .pi * b)
    }
}
