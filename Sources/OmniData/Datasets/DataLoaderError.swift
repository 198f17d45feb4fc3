/// A sample a ``DataLoader`` could not turn into batch data, or a loader state it cannot resume.
///
/// Names the manifest line, the sample id, the modality and the file, so a bad sample in a long
/// run can be found and fixed:
/// `train.jsonl:12: sample 'cat-3': image file /data/img/cat3.png: not a PNG or JPEG file (starts with 00 00)`.
public struct DataLoaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// A decoder (or a transform in it) threw: missing, corrupt or unusable file or text.
        case decode
        /// The sample has a modality no decoder is registered for.
        case noDecoder
        /// The decoded data does not fit the batch: its fixed axes differ from the batch's.
        case collation
        /// A saved ``DataLoader/State`` that does not belong to this loader.
        case invalidState
    }

    public var kind: Kind
    /// The source's name (the manifest's path), when the error concerns a sample.
    public var source: String?
    /// 1-based manifest line (0 when the source has no lines).
    public var line: Int?
    /// The sample's index in the source.
    public var index: Int?
    public var sampleID: String?
    public var modality: Modality?
    /// The resolved file the modality was read from (nil for inline text).
    public var file: String?
    /// What went wrong (without the file name, which ``file`` holds).
    public var reason: String

    public init(kind: Kind, source: String? = nil, line: Int? = nil, index: Int? = nil, sampleID: String? = nil,
                modality: Modality? = nil, file: String? = nil, reason: String) {
        self.kind = kind; self.source = source; self.line = line; self.index = index
        self.sampleID = sampleID; self.modality = modality; self.file = file; self.reason = reason
    }

    public var description: String {
        var parts: [String] = []
        if let source {
            if let line, line > 0 { parts.append("\(source):\(line)") } else { parts.append(source) }
        }
        if let sampleID { parts.append("sample '\(sampleID)'") }
        if let modality {
            parts.append(file.map { "\(modality.rawValue) file \($0)" } ?? modality.rawValue)
        } else if let file {
            parts.append(file)
        }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }
}
