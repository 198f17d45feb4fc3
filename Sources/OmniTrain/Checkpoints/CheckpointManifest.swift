import Foundation

/// The `manifest.json` of a checkpoint directory: what it holds and how to check it.
///
/// It is written last, after every other file has been written and synced, and lists each file
/// with its size and SHA-256, so a checkpoint verifies only if every byte is what was written.
///
/// ```json
/// {"created": "2025-01-01T12:00:00Z", "files": {"model.safetensors": {"bytes": 5120, "sha256": "…"}, …},
///  "format": "omni-checkpoint", "step": 1200, "version": 1}
/// ```
public struct CheckpointManifest: Codable, Sendable, Equatable {
    /// One file of the checkpoint.
    public struct FileEntry: Codable, Sendable, Equatable {
        /// Size in bytes.
        public var bytes: Int
        /// Lowercase hex SHA-256 of the contents (as `sha256sum` prints it).
        public var sha256: String
    }

    /// Always `"omni-checkpoint"`.
    public var format: String
    /// The layout version (1).
    public var version: Int
    /// The training step the checkpoint was taken at.
    public var step: Int
    /// When it was written, ISO 8601 in UTC.
    public var created: String
    /// Every file by name (relative to the checkpoint directory).
    public var files: [String: FileEntry]

    public static let formatName = "omni-checkpoint"
    public static let currentVersion = 1
    /// The manifest's file name.
    public static let fileName = "manifest.json"

    /// The manifest JSON (sorted keys, pretty-printed).
    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Reads and checks `directory/manifest.json`.
    static func read(directory: String) throws -> CheckpointManifest {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(file: path, "missing or unreadable")
        }
        let manifest: CheckpointManifest
        do {
            manifest = try JSONDecoder().decode(CheckpointManifest.self, from: data)
        } catch {
            throw CheckpointError(file: path, "not a checkpoint manifest: \(error)")
        }
        guard manifest.format == formatName else { throw CheckpointError(file: path, "format is \"\(manifest.format)\", expected \"\(formatName)\"") }
        guard manifest.version == currentVersion else { throw CheckpointError(file: path, "version \(manifest.version) is not supported (expected \(currentVersion))") }
        for name in manifest.files.keys where name.isEmpty || name.contains("/") || name.hasPrefix(".") || name == fileName {
            throw CheckpointError(file: path, "invalid file name \"\(name)\" in the manifest")
        }
        return manifest
    }
}
