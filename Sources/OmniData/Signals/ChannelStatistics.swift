/// Per-channel statistics of a signal, computed in Double, ignoring NaN (missing) samples.
///
/// Compute them on training data with ``Signal/channelStatistics()`` and reuse them for
/// validation and test data through ``Signal/zScoreNormalized(using:epsilon:)`` or
/// ``Signal/minMaxNormalized(to:using:)``. `Codable`, so they can be saved with a model.
public struct ChannelStatistics: Sendable, Equatable, Codable {
    /// Mean of each channel.
    public var mean: [Double]
    /// Population standard deviation (divisor N) of each channel.
    public var std: [Double]
    /// Smallest value of each channel.
    public var minimum: [Double]
    /// Largest value of each channel.
    public var maximum: [Double]

    public init(mean: [Double], std: [Double], minimum: [Double], maximum: [Double]) {
        precondition(std.count == mean.count && minimum.count == mean.count && maximum.count == mean.count,
                     "ChannelStatistics: mean, std, minimum and maximum need one value per channel, got \(mean.count), \(std.count), \(minimum.count), \(maximum.count)")
        self.mean = mean
        self.std = std
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Number of channels.
    public var channelCount: Int { mean.count }
}
