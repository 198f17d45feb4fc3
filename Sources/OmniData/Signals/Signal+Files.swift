import Foundation
import OmniNN
import OmniTensor

extension Signal {
    /// Reads a NumPy `.npy` array: `[S]` (one channel) or `[C, S]` / `[S, C]` as `layout` says. Any
    /// numeric dtype is converted to float32.
    ///
    /// Throws ``SignalError`` for a file the `.npy` reader rejects (truncated, corrupt, absurd
    /// header), an array of rank 0 or above 2, no samples, or more than ``Signal/maxChannels``
    /// channels.
    ///
    /// ```swift
    /// let s = try Signal(npyContentsOf: "vib.npy", layout: .samplesFirst, sampleRate: 25_600)
    /// ```
    public init(npyContentsOf path: String, layout: SignalLayout, sampleRate: Double,
                channelNames: [String]? = nil) throws(SignalError) {
        guard sampleRate > 0 && sampleRate.isFinite else {
            throw SignalError(file: path, "sample rate \(sampleRate) must be positive and finite")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw SignalError(file: path, "no such file")
        }
        let array: Tensor
        do { array = try NPY.read(contentsOf: path) } catch let e as WeightsError {
            throw SignalError(file: path, e.message)
        } catch { throw SignalError(file: path, "\(error)") }
        guard array.dtype != .bool else { throw SignalError(file: path, "a bool array is not a signal") }
        let matrix: Tensor
        switch array.rank {
        case 1: matrix = array.reshaped([1, array.shape[0]])
        case 2: matrix = layout == .channelsFirst ? array : array.transposed(0, 1)
        default: throw SignalError(file: path, "a signal array must be [S] or 2-D, got shape \(array.shape)")
        }
        let (channels, count) = (matrix.shape[0], matrix.shape[1])
        guard channels > 0 && count > 0 else { throw SignalError(file: path, "no samples (shape \(array.shape))") }
        guard channels <= Signal.maxChannels else {
            throw SignalError(file: path, "\(channels) channels (shape \(array.shape), \(layout)) exceeds the limit of \(Signal.maxChannels)")
        }
        if let channelNames, channelNames.count != channels {
            throw SignalError(file: path, "\(channelNames.count) channel names for \(channels) channels")
        }
        self.init(samples: matrix.converted(to: .float32).contiguous().toArray(), channelCount: channels,
                  sampleRate: sampleRate, channelNames: channelNames)
    }

    /// Reads an audio file (WAV, FLAC, OGG through libsndfile) keeping every channel — no mono
    /// mix-down — at the file's sample rate. Samples are in [-1, 1].
    public init(audioContentsOf path: String) throws(SignalError) {
        let audio: AudioFile
        do { audio = try AudioFile(contentsOf: path) } catch { throw SignalError(file: path, error.message) }
        let n = audio.frames, c = audio.channels
        var out = [Float](repeating: 0, count: n * c)
        audio.samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for f in 0..<n { for ch in 0..<c { o[ch * n + f] = s[f * c + ch] } }
            }
        }
        self.init(samples: out, channelCount: c, sampleRate: Double(audio.sampleRate))
    }

    /// Reads a signal by the file's extension: `.csv`/`.tsv`/`.txt` as CSV, `.npy` (with
    /// `npyLayout`), `.wav`/`.flac`/`.ogg` as audio. `sampleRate` is required for `.npy` and for
    /// CSV files without a time column.
    public init(contentsOf path: String, sampleRate: Double? = nil,
                npyLayout: SignalLayout = .channelsFirst) throws(SignalError) {
        switch (path as NSString).pathExtension.lowercased() {
        case "csv", "tsv", "txt", "dat":
            self = try Signal(csvContentsOf: path, options: CSVSignalOptions(sampleRate: sampleRate))
        case "npy":
            guard let sampleRate else { throw SignalError(file: path, ".npy arrays carry no sample rate: give one") }
            self = try Signal(npyContentsOf: path, layout: npyLayout, sampleRate: sampleRate)
        case "wav", "flac", "ogg", "oga":
            self = try Signal(audioContentsOf: path)
        case let ext:
            throw SignalError(file: path, "unsupported signal file type '.\(ext)' (csv, tsv, txt, npy, wav, flac, ogg)")
        }
    }
}
