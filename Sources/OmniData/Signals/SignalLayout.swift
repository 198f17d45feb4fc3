/// How a 2-D array holds a signal.
public enum SignalLayout: String, Sendable, Equatable, CaseIterable {
    /// `[C, S]`: one row per channel.
    case channelsFirst
    /// `[S, C]`: one row per time step (how CSV-like data and pandas frames are usually saved).
    case samplesFirst
}
