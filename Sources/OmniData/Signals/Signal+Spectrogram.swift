import Foundation
import OmniTensor

extension Signal {
    /// The fewest samples per channel ``stftMagnitude(nFft:hop:scale:)`` accepts: reflect padding by
    /// `nFft / 2` needs more than `nFft / 2` samples.
    public static func minimumSTFTLength(nFft: Int) -> Int { nFft / 2 + 1 }

    /// The number of STFT frames for `sampleCount` samples: `1 + S / hop` (centred frames).
    public func stftFrameCount(hop: Int) -> Int { 1 + sampleCount / hop }

    /// The short-time Fourier magnitude of every channel, `[C, nFft/2 + 1, T]` float32, with
    /// `T = 1 + S / hop`: the 2-D time–frequency map that lifts 1-D vibration or IMU channels into
    /// an image-like input for a convolutional front end.
    ///
    /// Frames are centred (the signal reflect-padded by `nFft / 2`) and weighted by a periodic Hann
    /// window, so for each channel the map equals
    /// `torch.stft(x, nFft, hop, window=torch.hann_window(nFft), center=True, pad_mode="reflect").abs()`
    /// (then `scale`). Bin `k` is `k · sampleRate / nFft` Hz (see ``stftFrequencies(nFft:)``).
    /// The DFT reuses ``STFT``'s windowed basis: one GEMM for all channels' frames.
    ///
    /// Precondition: `nFft > 0`, `hop > 0` and more than `nFft / 2` samples per channel
    /// (``minimumSTFTLength(nFft:)``); check lengths that come from files before calling.
    ///
    /// ```swift
    /// let map = vibration.stftMagnitude(nFft: 256, hop: 64, scale: .log())   // [C, 129, T]
    /// ```
    public func stftMagnitude(nFft: Int, hop: Int? = nil, scale: SpectrogramScale = .magnitude) -> Tensor {
        let hop = hop ?? Swift.max(nFft / 4, 1)
        precondition(nFft > 0 && hop > 0, "Signal.stftMagnitude: nFft and hop must be positive, got \(nFft), \(hop)")
        precondition(sampleCount >= Self.minimumSTFTLength(nFft: nFft),
                     "Signal.stftMagnitude: \(sampleCount) samples are too few for nFft \(nFft) (reflect padding needs more than \(nFft / 2))")
        let bins = nFft / 2 + 1, frames = stftFrameCount(hop: hop)
        var framed = [Float]()
        framed.reserveCapacity(channelCount * frames * nFft)
        for c in 0..<channelCount { framed += STFT.frames(Array(channel(c)), nFft: nFft, hop: hop).toArray() }
        let f = Tensor(framed, shape: [channelCount * frames, nFft])                      // [C·T, nFft]
        let (re, im) = STFT.basis(nFft: nFft)
        let power = f.matmul(re).square() + f.matmul(im).square()                          // [C·T, F]
        let scaled: Tensor
        switch scale {
        case .power: scaled = power
        case .magnitude: scaled = power.sqrt()
        case .log(let floor):
            scaled = power.sqrt().clamped(min: floor).log()
        case .decibels(let floor):
            scaled = power.sqrt().clamped(min: floor).log() * Float(20 / Foundation.log(10.0))
        }
        return scaled.reshaped([channelCount, frames, bins]).transposed(1, 2).contiguous()   // [C, F, T]
    }

    /// The centre frequency in Hz of each STFT bin: `k · sampleRate / nFft` for `k` in `0...nFft/2`.
    public func stftFrequencies(nFft: Int) -> [Double] {
        (0...(nFft / 2)).map { Double($0) * sampleRate / Double(nFft) }
    }
}
