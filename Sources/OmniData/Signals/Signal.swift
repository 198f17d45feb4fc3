import OmniTensor

/// A multichannel time series: float32 samples `[C, S]` (channel-major), the sample rate in Hz and
/// a name per channel.
///
/// Signals come from CSV (``init(csvContentsOf:options:)``), `.npy`
/// (``init(npyContentsOf:layout:sampleRate:channelNames:)``), multichannel audio files
/// (``init(audioContentsOf:)``) or the `.ts` files of the UEA/UCR archives (``TSFile``). They can be
/// resampled, normalised per channel, cut into overlapping windows and lifted into an STFT
/// magnitude map.
///
/// ```swift
/// let imu = try Signal(csvContentsOf: "imu.csv")                 // time column → sample rate
/// let x = imu.resampled(to: 50).zScoreNormalized()
/// let windows = x.windows(size: 100, hop: 50, tail: .zeroPad)     // [W, C, 100]
/// let map = x.stftMagnitude(nFft: 64, hop: 16, scale: .log())     // [C, 33, T]
/// ```
public struct Signal: Sendable, Equatable {
    /// The samples, channel after channel: `samples[c * sampleCount + s]`.
    public let samples: [Float]
    /// Number of channels `C`.
    public let channelCount: Int
    /// Samples per channel `S`.
    public let sampleCount: Int
    /// Samples per second.
    public let sampleRate: Double
    /// One name per channel (from a CSV header, or `ch0`, `ch1`, …).
    public let channelNames: [String]

    // Reading limits shared by the decoders, checked before anything large is allocated.

    /// The largest file the text readers (CSV, `.ts`) open: 1 GiB.
    public static let maxFileBytes = 1 << 30
    /// The most channels a signal may have.
    public static let maxChannels = 4096
    /// The most values (channels × samples) a signal may hold.
    public static let maxValues = 1 << 30

    /// A signal from channel-major `samples` (`channelCount × sampleCount` values).
    ///
    /// `channelNames` defaults to `ch0`, `ch1`, …; the sample rate must be positive and finite.
    public init(samples: [Float], channelCount: Int, sampleRate: Double, channelNames: [String]? = nil) {
        precondition(channelCount > 0, "Signal: channelCount must be positive, got \(channelCount)")
        precondition(samples.count % channelCount == 0,
                     "Signal: \(samples.count) samples do not split into \(channelCount) channels")
        precondition(sampleRate > 0 && sampleRate.isFinite, "Signal: sampleRate must be positive and finite, got \(sampleRate)")
        let names = channelNames ?? Self.defaultNames(channelCount)
        precondition(names.count == channelCount, "Signal: \(names.count) channel names for \(channelCount) channels")
        self.samples = samples
        self.channelCount = channelCount
        self.sampleCount = samples.count / channelCount
        self.sampleRate = sampleRate
        self.channelNames = names
    }

    /// A signal from a float `[C, S]` tensor (rank 1 is one channel).
    public init(tensor: Tensor, sampleRate: Double, channelNames: [String]? = nil) {
        precondition(tensor.rank == 1 || tensor.rank == 2, "Signal: tensor must be [S] or [C, S], got \(tensor.shape)")
        let channels = tensor.rank == 1 ? 1 : tensor.shape[0]
        self.init(samples: tensor.toArray(), channelCount: channels, sampleRate: sampleRate, channelNames: channelNames)
    }

    /// `ch0`, `ch1`, …
    static func defaultNames(_ count: Int) -> [String] { (0..<count).map { "ch\($0)" } }

    /// Duration in seconds.
    public var duration: Double { Double(sampleCount) / sampleRate }

    /// The samples as a float32 `[C, S]` tensor.
    public func tensor() -> Tensor { Tensor(samples, shape: [channelCount, sampleCount]) }

    /// The samples of channel `index`.
    public func channel(_ index: Int) -> ArraySlice<Float> {
        precondition(index >= 0 && index < channelCount, "Signal.channel: index \(index) out of range for \(channelCount) channels")
        return samples[(index * sampleCount)..<((index + 1) * sampleCount)]
    }

    /// The channel named `name`, or nil.
    public func channel(named name: String) -> ArraySlice<Float>? {
        channelNames.firstIndex(of: name).map { channel($0) }
    }

    /// A signal with the channels at `indices`, in that order.
    public func selectingChannels(_ indices: [Int]) -> Signal {
        precondition(!indices.isEmpty, "Signal.selectingChannels: needs at least one channel")
        var out = [Float]()
        out.reserveCapacity(indices.count * sampleCount)
        for i in indices { out += channel(i) }
        return Signal(samples: out, channelCount: indices.count, sampleRate: sampleRate,
                      channelNames: indices.map { channelNames[$0] })
    }
}
