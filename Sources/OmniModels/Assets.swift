import Foundation

/// Where the real weights and data fetched by `scripts/fetch-assets` live: `$OMNI_ASSETS`, or
/// `~/.cache/omni`.
public enum Assets {
    /// The asset folder.
    public static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["OMNI_ASSETS"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/omni", isDirectory: true)
    }

    /// A file under the asset folder (`Assets.file("minilm/model.safetensors")`).
    public static func file(_ relativePath: String) -> URL { directory.appendingPathComponent(relativePath) }
}
