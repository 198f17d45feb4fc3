import OmniTensor

/// SpecAugment's frequency and time masking (Park et al. 2019, "SpecAugment: A Simple Data
/// Augmentation Method for Automatic Speech Recognition", §2) on a `[nMels, frames]` spectrogram,
/// or on each item of a `[B, nMels, frames]` batch.
///
/// - `frequencyMaskCount` (m_F) frequency masks: width `f` uniform in `0...maxFrequencyWidth` (F),
///   first channel `f0` uniform in `0...(ν − f)`; channels `f0 ..< f0 + f` are masked.
/// - `timeMaskCount` (m_T) time masks: width `t` uniform in `0...T'` with
///   `T' = min(maxTimeWidth, ⌊p · τ⌋)` when the proportion cap `p` (`maxTimeProportion`) is set, else
///   `maxTimeWidth`; first frame `t0` uniform in `0...(τ − t)`; frames `t0 ..< t0 + t` are masked.
///
/// The defaults are the paper's LibriSpeech double policy (LD: F = 27, m_F = 2, T = 100,
/// m_T = 2, p = 1.0 — with p = 1 the cap is just τ). Widths are also capped at ν (resp. τ). Masks may overlap. Masked cells get `maskValue`: zero,
/// or the mean of the (unmasked) input spectrogram — the paper normalises log-mels to zero mean,
/// where the two agree. Time warping, the paper's third augmentation, is not part of this type.
///
/// Random draws, in this order, all from `generator.nextInt(below:)`: for each frequency mask its
/// width then its start, then for each time mask its width then its start (per batch item).
/// ``masks(melCount:frameCount:generator:)`` returns exactly the regions ``apply(to:generator:)``
/// masks for the same generator state.
///
/// ```swift
/// // LibriSpeech basic policy (LB): F = 27, m_F = 1, T = 100, p = 1.0, m_T = 1
/// let augment = SpecAugment(frequencyMaskCount: 1, maxFrequencyWidth: 27, timeMaskCount: 1, maxTimeWidth: 100)
/// let masked = augment.apply(to: mel, generator: Generator(seed: 0))     // [80, frames]
/// ```
public struct SpecAugment: Sendable, Equatable {
    /// What masked cells are set to.
    public enum MaskValue: Sendable, Equatable {
        case zero
        /// The mean of the spectrogram being masked (computed before masking).
        case mean
    }

    /// One masked region.
    public struct Mask: Sendable, Equatable {
        public enum Axis: String, Sendable, Equatable { case frequency, time }
        public let axis: Axis
        /// First masked mel channel (frequency) or frame (time).
        public let start: Int
        /// How many channels or frames, possibly 0.
        public let width: Int

        public init(axis: Axis, start: Int, width: Int) {
            self.axis = axis
            self.start = start
            self.width = width
        }

        /// The masked indices along the axis.
        public var range: Range<Int> { start..<(start + width) }
    }

    public let frequencyMaskCount: Int
    public let maxFrequencyWidth: Int
    public let timeMaskCount: Int
    public let maxTimeWidth: Int
    /// The proportion cap p (0...1) on a time mask's width relative to the frame count, or nil.
    public let maxTimeProportion: Double?
    public let maskValue: MaskValue

    public init(frequencyMaskCount: Int = 2, maxFrequencyWidth: Int = 27, timeMaskCount: Int = 2, maxTimeWidth: Int = 100,
                maxTimeProportion: Double? = nil, maskValue: MaskValue = .zero) {
        precondition(frequencyMaskCount >= 0 && timeMaskCount >= 0 && maxFrequencyWidth >= 0 && maxTimeWidth >= 0,
                     "SpecAugment: mask counts and widths must be non-negative, got m_F \(frequencyMaskCount), F \(maxFrequencyWidth), m_T \(timeMaskCount), T \(maxTimeWidth)")
        if let p = maxTimeProportion {
            precondition((0...1).contains(p), "SpecAugment: maxTimeProportion must be in 0...1, got \(p)")
        }
        self.frequencyMaskCount = frequencyMaskCount
        self.maxFrequencyWidth = maxFrequencyWidth
        self.timeMaskCount = timeMaskCount
        self.maxTimeWidth = maxTimeWidth
        self.maxTimeProportion = maxTimeProportion
        self.maskValue = maskValue
    }

    /// The largest time-mask width for `frameCount` frames: `min(T, ⌊p·τ⌋, τ)`.
    public func timeWidthLimit(frameCount: Int) -> Int {
        var limit = Swift.min(maxTimeWidth, frameCount)
        if let p = maxTimeProportion { limit = Swift.min(limit, Int((p * Double(frameCount)).rounded(.down))) }
        return limit
    }

    /// Draws the masks for one `[melCount, frameCount]` spectrogram.
    public func masks(melCount: Int, frameCount: Int, generator: Generator) -> [Mask] {
        precondition(melCount > 0 && frameCount > 0, "SpecAugment: the spectrogram must be non-empty, got [\(melCount), \(frameCount)]")
        var out: [Mask] = []
        let fLimit = Swift.min(maxFrequencyWidth, melCount)
        for _ in 0..<frequencyMaskCount {
            let f = generator.nextInt(below: fLimit + 1)
            let f0 = generator.nextInt(below: melCount - f + 1)
            out.append(Mask(axis: .frequency, start: f0, width: f))
        }
        let tLimit = timeWidthLimit(frameCount: frameCount)
        for _ in 0..<timeMaskCount {
            let t = generator.nextInt(below: tLimit + 1)
            let t0 = generator.nextInt(below: frameCount - t + 1)
            out.append(Mask(axis: .time, start: t0, width: t))
        }
        return out
    }

    /// The spectrogram with masks drawn from `generator` applied: `[nMels, frames]`, or
    /// `[B, nMels, frames]` with independent masks per item (drawn item after item).
    public func apply(to spectrogram: Tensor, generator: Generator) -> Tensor {
        precondition(spectrogram.rank == 2 || spectrogram.rank == 3,
                     "SpecAugment: expects [nMels, frames] or [B, nMels, frames], got \(spectrogram.shape)")
        let batch = spectrogram.rank == 3 ? spectrogram.shape[0] : 1
        let mels = spectrogram.shape[spectrogram.rank - 2], frames = spectrogram.shape[spectrogram.rank - 1]
        var values = spectrogram.toArray()
        let size = mels * frames
        for b in 0..<batch {
            let regions = masks(melCount: mels, frameCount: frames, generator: generator)
            values.withUnsafeMutableBufferPointer { v in
                let base = b * size
                var fill: Float = 0
                if maskValue == .mean {
                    var sum = 0.0
                    for i in 0..<size { sum += Double(v[base + i]) }
                    fill = Float(sum / Double(size))
                }
                for m in regions {
                    switch m.axis {
                    case .frequency:
                        for row in m.range { for t in 0..<frames { v[base + row * frames + t] = fill } }
                    case .time:
                        for row in 0..<mels { for t in m.range { v[base + row * frames + t] = fill } }
                    }
                }
            }
        }
        return Tensor(values, shape: spectrogram.shape)
    }
}
