import Testing
@testable import OmniNN

@Test func weightsErrorNamesTheFile() {
    #expect(WeightsError(file: "a.safetensors", "bad header").description == "a.safetensors: bad header")
}
