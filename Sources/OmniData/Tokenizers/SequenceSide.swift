/// Which end of a token sequence truncation removes from, or padding adds to.
public enum SequenceSide: String, Sendable, Equatable, Codable {
    case left
    case right
}
