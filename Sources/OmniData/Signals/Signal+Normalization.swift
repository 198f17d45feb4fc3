extension Signal {
    /// Mean, standard deviation (population), minimum and maximum of every channel, in Double,
    /// skipping NaN samples. A channel with no finite sample gets NaN statistics.
    public func channelStatistics() -> ChannelStatistics {
        var mean = [Double](), std = [Double](), lo = [Double](), hi = [Double]()
        for c in 0..<channelCount {
            var n = 0, sum = 0.0, minimum = Double.infinity, maximum = -Double.infinity
            for x in channel(c) where !x.isNaN {
                n += 1; sum += Double(x)
                minimum = Swift.min(minimum, Double(x)); maximum = Swift.max(maximum, Double(x))
            }
            guard n > 0 else { mean.append(.nan); std.append(.nan); lo.append(.nan); hi.append(.nan); continue }
            let m = sum / Double(n)
            var squares = 0.0
            for x in channel(c) where !x.isNaN { squares += (Double(x) - m) * (Double(x) - m) }
            mean.append(m); std.append((squares / Double(n)).squareRoot()); lo.append(minimum); hi.append(maximum)
        }
        return ChannelStatistics(mean: mean, std: std, minimum: lo, maximum: hi)
    }

    /// Each channel standardised: `(x − mean) / std`, with the signal's own statistics or the given
    /// ones (e.g. from training data). A channel whose std is below `epsilon` is only centred
    /// (divided by 1), so a constant channel becomes zeros rather than infinities.
    ///
    /// ```swift
    /// let stats = train.channelStatistics()
    /// let x = test.zScoreNormalized(using: stats)
    /// ```
    public func zScoreNormalized(using statistics: ChannelStatistics? = nil, epsilon: Double = 1e-8) -> Signal {
        let stats = statistics ?? channelStatistics()
        precondition(stats.channelCount == channelCount,
                     "Signal.zScoreNormalized: statistics for \(stats.channelCount) channels, signal has \(channelCount)")
        return mapChannels { c in
            let scale = stats.std[c] < epsilon ? 1 : 1 / stats.std[c]
            return (stats.mean[c], scale, 0)
        }
    }

    /// Each channel scaled linearly so its minimum maps to `range.lowerBound` and its maximum to
    /// `range.upperBound` (own or given statistics). A constant channel maps to the lower bound.
    public func minMaxNormalized(to range: ClosedRange<Double> = 0...1, using statistics: ChannelStatistics? = nil) -> Signal {
        let stats = statistics ?? channelStatistics()
        precondition(stats.channelCount == channelCount,
                     "Signal.minMaxNormalized: statistics for \(stats.channelCount) channels, signal has \(channelCount)")
        return mapChannels { c in
            let span = stats.maximum[c] - stats.minimum[c]
            let scale = span > 0 ? (range.upperBound - range.lowerBound) / span : 0
            return (stats.minimum[c], scale, range.lowerBound)
        }
    }

    /// `(x − shift) · scale + offset` per channel, evaluated in Double and rounded once to Float.
    func mapChannels(_ coefficients: (Int) -> (shift: Double, scale: Double, offset: Double)) -> Signal {
        var out = samples
        let n = sampleCount
        out.withUnsafeMutableBufferPointer { o in
            for c in 0..<channelCount {
                let (shift, scale, offset) = coefficients(c)
                for i in (c * n)..<((c + 1) * n) { o[i] = Float((Double(o[i]) - shift) * scale + offset) }
            }
        }
        return Signal(samples: out, channelCount: channelCount, sampleRate: sampleRate, channelNames: channelNames)
    }
}
