/// How ``Signal/stftMagnitude(nFft:hop:scale:)`` scales `|STFT|`.
public enum SpectrogramScale: Sendable, Equatable {
    /// `|X|`.
    case magnitude
    /// `|X|²`.
    case power
    /// `ln(max(|X|, floor))`.
    case log(floor: Float = 1e-6)
    /// `20 · log10(max(|X|, floor))`, amplitude decibels.
    case decibels(floor: Float = 1e-10)
}
