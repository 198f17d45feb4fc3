extension Signal {
    /// The signal at `targetRate` Hz, each channel through the band-limited Kaiser-windowed sinc
    /// ``Resampler`` (the one the audio path uses).
    ///
    /// Rates are taken to a thousandth of a hertz (a 12.5 Hz or 29.97 Hz signal works); the output
    /// has `⌈S · target / source⌉` samples per channel.
    ///
    /// ```swift
    /// let imu50 = imu.resampled(to: 50)
    /// ```
    public func resampled(to targetRate: Double) -> Signal {
        precondition(targetRate > 0 && targetRate.isFinite, "Signal.resampled: target rate must be positive and finite, got \(targetRate)")
        let from = Int((sampleRate * 1000).rounded()), to = Int((targetRate * 1000).rounded())
        precondition(from > 0 && to > 0, "Signal.resampled: rates \(sampleRate) → \(targetRate) Hz are below a thousandth of a hertz")
        if from == to { return Signal(samples: samples, channelCount: channelCount, sampleRate: targetRate, channelNames: channelNames) }
        let resampler = Resampler(from: from, to: to)
        var out = [Float]()
        out.reserveCapacity(channelCount * resampler.outputCount(for: sampleCount))
        for c in 0..<channelCount { out += resampler.resample(Array(channel(c))) }
        return Signal(samples: out, channelCount: channelCount, sampleRate: targetRate, channelNames: channelNames)
    }
}
