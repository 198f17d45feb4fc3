import Foundation
import OmniTensor

/// Short-time Fourier transform with a periodic Hann window, matching `torch.stft(x, n_fft, hop,
/// window=torch.hann_window(n_fft), center=True, pad_mode="reflect", return_complex=True)`.
///
/// The DFT is a matmul of the framed signal with a precomputed `[nFft, nFft/2+1]` cosine and sine
/// basis (the window folded in): for Whisper's n_fft = 400 that is one oneDNN GEMM per part and
/// needs no FFT of a non-power-of-two size.
public enum STFT {
    /// The periodic Hann window `0.5 − 0.5·cos(2πn/N)`, as `torch.hann_window(N)`.
    public static func hannWindow(_ n: Int) -> [Double] {
        (0..<n).map { 0.5 - 0.5 * Foundation.cos(2 * Double.pi * Double($0) / Double(n)) }
    }

    /// Frames of the reflect-padded signal (`center=True`): `[frames, nFft]`, frame `t` starting at
    /// `t·hop` of the signal padded by `nFft/2` on each side. `maxFrames` caps the count (Whisper
    /// drops the last frame).
    static func frames(_ samples: [Float], nFft: Int, hop: Int, maxFrames: Int? = nil) -> Tensor {
        let pad = nFft / 2, n = samples.count
        precondition(n > pad, "STFT: reflect padding of \(pad) needs more than \(pad) samples, got \(n)")
        var count = 1 + n / hop
        if let maxFrames { count = Swift.min(count, maxFrames) }
        var out = [Float](repeating: 0, count: count * nFft)
        samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for t in 0..<count {
                    for j in 0..<nFft {
                        var i = t * hop + j - pad                     // index into the unpadded signal
                        if i < 0 { i = -i } else if i >= n { i = 2 * (n - 1) - i }
                        o[t * nFft + j] = s[i]
                    }
                }
            }
        }
        return Tensor(out, shape: [count, nFft])
    }

    /// Bases already built, by `nFft` (building one takes 2·nFft·bins trigonometric calls, far
    /// more than transforming a short clip).
    nonisolated(unsafe) private static var cache: [Int: (Tensor, Tensor)] = [:]
    private static let cacheLock = NSLock()

    /// The windowed DFT basis: `([nFft, bins], [nFft, bins])` for the real and imaginary parts.
    static func basis(nFft: Int) -> (Tensor, Tensor) {
        cacheLock.lock(); defer { cacheLock.unlock() }
        if let b = cache[nFft] { return b }
        let b = makeBasis(nFft: nFft)
        if cache.count < 16 { cache[nFft] = b }
        return b
    }

    static func makeBasis(nFft: Int) -> (Tensor, Tensor) {
        let bins = nFft / 2 + 1, window = hannWindow(nFft)
        var re = [Float](repeating: 0, count: nFft * bins), im = re
        for j in 0..<nFft {
            for k in 0..<bins {
                // Reduce k·j mod nFft first so the angle stays exact for large products.
                let angle = 2 * Double.pi * Double((k * j) % nFft) / Double(nFft)
                re[j * bins + k] = Float(window[j] * Foundation.cos(angle))
                im[j * bins + k] = Float(-window[j] * Foundation.sin(angle))
            }
        }
        return (Tensor(re, shape: [nFft, bins]), Tensor(im, shape: [nFft, bins]))
    }

    /// The STFT `(real, imag)`, each `[nFft/2+1, frames]` like torch's output layout.
    public static func transform(_ samples: [Float], nFft: Int, hop: Int) -> (real: Tensor, imag: Tensor) {
        let f = frames(samples, nFft: nFft, hop: hop)                 // [T, nFft]
        let (bre, bim) = basis(nFft: nFft)
        return (f.matmul(bre).transposed(0, 1).contiguous(), f.matmul(bim).transposed(0, 1).contiguous())
    }

    /// `|STFT|²` as `[nFft/2+1, frames]`; `dropLastFrame` matches Whisper's `stft[..., :-1]`.
    public static func powerSpectrogram(_ samples: [Float], nFft: Int, hop: Int, dropLastFrame: Bool = false) -> Tensor {
        let all = 1 + samples.count / hop
        let f = frames(samples, nFft: nFft, hop: hop, maxFrames: dropLastFrame ? all - 1 : nil)   // [T, nFft]
        let (bre, bim) = basis(nFft: nFft)
        let power = f.matmul(bre).square() + f.matmul(bim).square()                               // [T, bins]
        return power.transposed(0, 1).contiguous()
    }
}

/// Whisper's log-mel spectrogram (`whisper.audio.log_mel_spectrogram`): 16 kHz samples, n_fft 400,
/// hop 160, power spectrum without the last frame, mel filters from `mel_filters.npz`
/// (`mel_80` / `mel_128`), `log10(max(mel, 1e-10))`, clamped to `max − 8`, then `(x + 4) / 4`.
///
/// ```swift
/// let filters = try NPZ.read(contentsOf: Assets.file("whisper/mel_filters.npz").path)["mel_80"]!
/// let mel = WhisperMel.logMelSpectrogram(samples: audio, nMels: 80, filters: filters)  // [80, frames]
/// ```
public enum WhisperMel {
    public static let sampleRate = 16_000
    public static let nFft = 400
    public static let hopLength = 160

    /// The log-mel spectrogram `[nMels, samples.count / 160]` of 16 kHz mono `samples`; `filters`
    /// is the `[nMels, 201]` matrix from `mel_filters.npz`.
    public static func logMelSpectrogram(samples: [Float], nMels: Int, filters: Tensor) -> Tensor {
        let bins = nFft / 2 + 1
        precondition(filters.shape == [nMels, bins],
                     "WhisperMel: filters must be [\(nMels), \(bins)], got \(filters.shape)")
        let power = STFT.powerSpectrogram(samples, nFft: nFft, hop: hopLength, dropLastFrame: true)  // [201, T]
        let mel = filters.converted(to: .float32).matmul(power)                                        // [nMels, T]
        let logSpec = Tensor.maximum(mel, Tensor(Float(1e-10))).log() / Float(Foundation.log(10.0))
        let peak = logSpec.max().item()
        return (logSpec.clamped(min: peak - 8) + 4) / 4
    }
}
