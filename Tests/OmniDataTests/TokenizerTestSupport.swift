import Foundation
import Testing
@testable import OmniData

/// An asset that `scripts/fetch-assets` has not put in place; tests fail with this, never skip.
struct MissingAsset: Error, CustomStringConvertible {
    let path: String
    var description: String {
        "missing asset \(path): run scripts/fetch-assets (OMNI_ASSETS=\(Assets.root.path) scripts/fetch-assets; `make test` runs it)"
    }
}

enum Assets {
    /// `$OMNI_ASSETS`, else `~/.cache/omni`, as scripts/fetch-assets uses.
    static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["OMNI_ASSETS"], !dir.isEmpty { return URL(filePath: dir) }
        return FileManager.default.homeDirectoryForCurrentUser.appending(path: ".cache/omni")
    }

    static func url(_ relative: String) throws -> URL {
        let url = root.appending(path: relative)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingAsset(path: url.path) }
        return url
    }

    // Loaded once per test process: the vocabularies take a moment in debug builds.
    static let gpt2 = Result { try TiktokenTokenizer.gpt2(contentsOf: url("whisper/gpt2.tiktoken")) }
    static let cl100k = Result { try TiktokenTokenizer.cl100kBase(contentsOf: url("tiktoken/cl100k_base.tiktoken")) }
    static let multilingual = Result {
        try TiktokenTokenizer(contentsOf: url("whisper/multilingual.tiktoken"), pattern: .gpt2)
    }
    static let miniLM = Result { try WordPieceTokenizer(contentsOf: url("minilm/tokenizer.json")) }
}

enum Fixtures {
    static func url(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw MissingAsset(path: "Tests/OmniDataTests/Fixtures/\(name)")
        }
        return url
    }

    static func json(_ name: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url(name)))
        return try #require(object as? [String: Any], "\(name) is not a JSON object")
    }
}

/// The folder every scratch directory of this test process lives in; removed when the process
/// exits, so test runs leave nothing behind in the system's temporary directory.
let testScratchRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appending(path: "omni-data-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "omni-data-tests-\(getpid())") }
    return root
}()

/// A scratch directory for files a test writes.
func temporaryDirectory() throws -> URL {
    let url = testScratchRoot.appending(path: "tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Asserts that `body` throws a `TokenizerError` for `file` whose message contains `fragment`.
func expectTokenizerError(file: String, containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a TokenizerError about \(fragment)", sourceLocation: sourceLocation)
    } catch let error as TokenizerError {
        #expect(error.file.hasSuffix(file), "error names \(error.file), expected \(file)", sourceLocation: sourceLocation)
        #expect(error.description.contains(fragment), "\(error.description) does not mention \(fragment)",
                sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a TokenizerError, got \(error)", sourceLocation: sourceLocation)
    }
}
