import Foundation

/// An indexable list of samples a ``DataLoader`` reads from.
///
/// ``Manifest`` is one; ``SampleList`` holds samples built in code. Paths in a sample are resolved
/// with ``resolve(_:)``; ``line(at:)`` and ``name`` only make error messages point at the right place.
///
/// ```swift
/// let source: any SampleSource = try Manifest.load(contentsOf: url)
/// let first = source.sample(at: 0)
/// ```
public protocol SampleSource: Sendable {
    /// Number of samples; indices run over `0..<count`.
    var count: Int { get }
    /// The sample at `index`.
    func sample(at index: Int) -> ManifestSample
    /// The 1-based line `index` came from, or 0 when the sample has no line.
    func line(at index: Int) -> Int
    /// The file a sample's (relative) path names.
    func resolve(_ path: String) -> URL
    /// What errors call this source, e.g. the manifest's path.
    var name: String { get }
}

extension Manifest: SampleSource {
    public var count: Int { samples.count }
    public func sample(at index: Int) -> ManifestSample { samples[index] }
    public func line(at index: Int) -> Int { sampleLines[index] }
    public func resolve(_ path: String) -> URL { url(for: path) }
    public var name: String { url.path }
}

/// Samples held in memory, with paths relative to `directory`.
///
/// ```swift
/// let list = SampleList([ManifestSample(id: "a", text: "hello")], directory: URL(fileURLWithPath: "/data"))
/// ```
public struct SampleList: SampleSource {
    public let samples: [ManifestSample]
    /// The folder relative paths resolve against.
    public let directory: URL
    public let name: String

    public init(_ samples: [ManifestSample], directory: URL, name: String = "<samples>") {
        self.samples = samples
        self.directory = directory
        self.name = name
    }

    public var count: Int { samples.count }
    public func sample(at index: Int) -> ManifestSample { samples[index] }
    public func line(at index: Int) -> Int { 0 }
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path).standardizedFileURL
                            : directory.appendingPathComponent(path).standardizedFileURL
    }
}
