import Foundation
import Testing
@testable import OmniNN
import OmniTensor

@Suite struct TensorFileTests {
    static let formats: [(String, TensorFileFormat)] = [
        ("st_all.safetensors", .safetensors), ("torch_zip.pth", .pytorchZip), ("torch_zip_deflated.pth", .pytorchZip),
        ("torch_legacy.pth", .pytorchLegacy), ("npy_f4.npy", .npy), ("npz_stored.npz", .npz), ("npz_deflated.npz", .npz),
    ]

    @Test(arguments: formats)
    func detectsTheFormatFromTheContents(name: String, format: TensorFileFormat) throws {
        #expect(try TensorFile.format(of: fixture(name)) == format)
        // Detection does not depend on the extension.
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let renamed = dir + "/renamed.dat"
        writeBytes(readBytes(fixture(name)), to: renamed)
        #expect(try TensorFile.format(of: renamed) == format)
        // A .npy tensor takes the file's name; map it back to the fixture's for comparison.
        let loaded = try TensorFile.load(renamed).map { (name: format == .npy ? "npy_f4" : $0.name, tensor: $0.tensor) }
        expectMatches(loaded, name)
    }

    @Test func npyIsNamedAfterTheFile() throws {
        let loaded = try TensorFile.load(fixture("npy_i8.npy"))
        #expect(loaded.map(\.name) == ["npy_i8"])
        expectMatches(loaded, "npy_i8.npy")
    }

    @Test func summaryListsNameDTypeAndShapeInOrder() throws {
        let summary = try TensorFile.summary(fixture("st_all.safetensors"))
        let expected = expectedTensors["st_all.safetensors"]!
        #expect(summary == expected.map { TensorSummary(name: $0.name, dtype: $0.dtype, shape: $0.shape) })
        #expect(summary.first { $0.name == "a.f32" }?.description == "a.f32\tfloat32\t[2, 3]")
        #expect(summary.first { $0.name == "a.f32" }?.byteCount == 24)
    }

    @Test func unrecognisedFilesAreAWeightsError() {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/notes.txt"
        writeBytes(Array("hello, world".utf8), to: path)
        expectWeightsError(path, ["unrecognised tensor file format"]) { _ = try TensorFile.load(path) }
        let empty = dir + "/empty.bin"
        writeBytes([], to: empty)
        expectWeightsError(empty, ["not a PyTorch checkpoint"]) { _ = try TensorFile.load(empty) }
    }
}
