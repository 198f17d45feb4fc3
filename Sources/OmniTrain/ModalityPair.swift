import OmniData

/// An unordered pair of distinct modalities, stored in ``Modality`` order (`first < second`).
///
/// Contrastive losses and retrieval metrics report one value per pair; the pair's ``name``
/// (`"image_text"`) is the key used in logs and JSON.
///
/// ```swift
/// let pair = ModalityPair(.text, .image)   // first: .text, second: .image
/// print(pair.name)                          // "text_image"
/// ```
public struct ModalityPair: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The modality that comes first in ``Modality``'s declaration order.
    public let first: Modality
    /// The other modality.
    public let second: Modality

    /// The pair of `a` and `b` in either order; `a` and `b` must differ.
    public init(_ a: Modality, _ b: Modality) {
        precondition(a != b, "ModalityPair: a pair needs two different modalities, got \(a.rawValue) twice")
        (first, second) = a < b ? (a, b) : (b, a)
    }

    /// `"<first>_<second>"`, e.g. `"text_image"`.
    public var name: String { "\(first.rawValue)_\(second.rawValue)" }

    public var description: String { name }

    /// Whether `modality` is one of the two.
    public func contains(_ modality: Modality) -> Bool { first == modality || second == modality }

    public static func < (a: ModalityPair, b: ModalityPair) -> Bool {
        a.first != b.first ? a.first < b.first : a.second < b.second
    }

    /// Every pair of distinct modalities in `modalities`, sorted.
    public static func all(_ modalities: some Sequence<Modality>) -> [ModalityPair] {
        let sorted = Array(Set(modalities)).sorted()
        var out: [ModalityPair] = []
        for i in 0..<sorted.count { for j in (i + 1)..<sorted.count { out.append(ModalityPair(sorted[i], sorted[j])) } }
        return out
    }
}
