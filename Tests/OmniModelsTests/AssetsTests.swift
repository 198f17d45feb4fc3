import Testing
@testable import OmniModels

@Test func assetsDirectoryHonoursEnvironment() {
    #expect(Assets.file("x/y").path.hasSuffix("x/y"))
}
