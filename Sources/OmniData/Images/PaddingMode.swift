/// How ``Image/padded(left:top:right:bottom:mode:)`` fills the new border (torchvision's
/// `padding_mode`).
public enum PaddingMode: Sendable, Equatable {
    /// Every sample of the border is the given value (per channel; one value is used for all).
    case constant([Int])
    /// The nearest edge pixel is repeated.
    case edge
    /// Mirrored without repeating the edge: `[1, 2, 3]` padded by 2 gives `3 2 | 1 2 3 | 2 1`.
    case reflect
    /// Mirrored including the edge: `[1, 2, 3]` padded by 2 gives `2 1 | 1 2 3 | 3 2`.
    case symmetric

    /// Zeros, torchvision's default.
    public static let zero = PaddingMode.constant([0])
}
