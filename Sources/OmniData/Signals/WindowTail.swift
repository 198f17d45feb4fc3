/// What ``Signal/windows(size:hop:tail:)`` does with samples after the last full window.
public enum WindowTail: String, Sendable, Equatable, CaseIterable {
    /// Only full windows; the tail is dropped (no window at all when the signal is shorter than
    /// one window).
    case drop
    /// Windows continue until every sample is covered; the last one is completed with zeros.
    case zeroPad
    /// As `zeroPad`, but completed by repeating each channel's last sample.
    case edgePad
}
