import Foundation
import Testing
@testable import OmniModels

@Test func assetsDirectoryIsOmniAssetsOrTheUserCache() {
    let expected: String
    if let env = ProcessInfo.processInfo.environment["OMNI_ASSETS"], !env.isEmpty {
        expected = URL(fileURLWithPath: env, isDirectory: true).appendingPathComponent("minilm/config.json").path
    } else {
        expected = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/omni/minilm/config.json").path
    }
    #expect(Assets.file("minilm/config.json").path == expected)
}
