import Foundation
import OmniData

/// How unevenly a model leans on its input modalities, from modality-ablation accuracies
/// (defined in docs/metrics.md).
///
/// With a the accuracy on full inputs and aₘ the accuracy when modality m is removed (for M ≥ 2
/// modalities), the drops dₘ = max(0, a − aₘ) say how much the model needs each modality (a
/// modality whose removal does not hurt is needed 0). With shares sₘ = dₘ / Σ d:
///
///     bias = CV(d) / √(M − 1) = √( (M · Σ sₘ² − 1) / (M − 1) )
///
/// the coefficient of variation (population standard deviation over mean) of the drops, divided by
/// its largest possible value √(M − 1). It is scale-free (a model that is better everywhere is not
/// more biased), 0 when every modality is needed equally, 1 when a single modality accounts for
/// the whole drop, and 0 when no removal hurts at all (``isDegenerate`` then says so).
///
/// Example: a = 0.90, a_image = 0.30, a_text = 0.80, a_audio = 0.85 → d = (0.60, 0.10, 0.05),
/// s = (0.8, 0.1333…, 0.0667…), M·Σs² = 3 · 0.66222… = 1.98667, bias = √(0.98667 / 2) = 0.7024.
///
/// ```swift
/// let bias = ModalityBias(fullAccuracy: 0.9, ablatedAccuracy: [.image: 0.3, .text: 0.8, .audio: 0.85])
/// print(bias.score)   // 0.7024…
/// ```
public struct ModalityBias: Sendable, Equatable, Codable {
    /// Accuracy with every modality.
    public var fullAccuracy: Double
    /// Accuracy with each modality removed.
    public var ablatedAccuracy: [Modality: Double]

    public init(fullAccuracy: Double, ablatedAccuracy: [Modality: Double]) {
        precondition(ablatedAccuracy.count >= 2, "ModalityBias: needs ablations of at least 2 modalities, got \(ablatedAccuracy.count)")
        self.fullAccuracy = fullAccuracy
        self.ablatedAccuracy = ablatedAccuracy
    }

    /// a − aₘ per modality, clipped at 0.
    public var drops: [Modality: Double] { ablatedAccuracy.mapValues { Swift.max(0, fullAccuracy - $0) } }

    /// Each modality's share of the total drop (all 0 when nothing drops).
    public var shares: [Modality: Double] {
        let d = drops, total = d.values.reduce(0, +)
        return d.mapValues { total > 0 ? $0 / total : 0 }
    }

    /// True when no modality's removal lowers accuracy (the score is then 0 by definition).
    public var isDegenerate: Bool { !drops.values.contains { $0 > 0 } }

    /// The bias score in [0, 1].
    public var score: Double {
        guard !isDegenerate else { return 0 }
        let m = Double(ablatedAccuracy.count)
        let concentration = shares.values.reduce(0) { $0 + $1 * $1 }
        return Foundation.sqrt(Swift.max(0, (m * concentration - 1) / (m - 1)))
    }
}
