import Foundation
import Testing
@testable import OmniNN
import OmniTensor

@Suite struct TorchCheckpointTests {
    @Test(arguments: ["torch_zip.pth", "torch_legacy.pth", "torch_zip_deflated.pth", "torch_zip_protocol4.pth"])
    func readsStateDictsSavedByPyTorch(name: String) throws {
        // Covers every dtype, a transposed, an offset, a strided and an expanded (stride-0)
        // tensor, two tensors sharing one storage, an empty tensor, a Parameter and float64.
        let contents = try TorchCheckpoint.read(contentsOf: fixture(name))
        #expect(contents.format == (name == "torch_legacy.pth" ? .pytorchLegacy : .pytorchZip))
        expectMatches(contents.tensors, name)
        #expect(contents.notes == ["tensor \"double\": float64 converted to float32"])
    }

    @Test(arguments: ["torch_nested.pth", "torch_nested_legacy.pth"])
    func nestedCheckpointsAreFlattenedWithDots(name: String) throws {
        let contents = try TorchCheckpoint.read(contentsOf: fixture(name))
        expectMatches(contents.tensors, name)
        #expect(contents.notes == ["skipped 3 non-tensor values: epoch (int), lr (float), history.1 (str)"])
    }

    @Test func selectingASubDictGivesModelNames() throws {
        let contents = try TorchCheckpoint.read(contentsOf: fixture("torch_nested.pth"), selecting: ["state_dict"])
        expectMatches(contents.tensors, "torch_nested.pth#state_dict")
        #expect(contents.notes.isEmpty)
        expectWeightsError(fixture("torch_nested.pth"), ["no key \"model\"", "\"epoch\"", "\"state_dict\""]) {
            _ = try TorchCheckpoint.read(contentsOf: fixture("torch_nested.pth"), selecting: ["model"])
        }
        expectWeightsError(fixture("torch_nested.pth"), ["epoch", "not a dict"]) {
            _ = try TorchCheckpoint.read(contentsOf: fixture("torch_nested.pth"), selecting: ["epoch", "x"])
        }
    }

    @Test func refusesAForbiddenGlobalWithoutRunningIt() {
        // Saved by torch.save from an object whose __reduce__ returns (os.system, ...).
        expectWeightsError(fixture("torch_evil_global.pth"), ["refusing global posix.system"]) {
            _ = try TorchCheckpoint.read(contentsOf: fixture("torch_evil_global.pth"))
        }
    }

    @Test func handMadeLegacyCheckpointLoads() throws {
        // The builder the corrupt-file tests use, checked on a valid file first:
        // a [2, 3] view with offset 1 and strides (1, 2) over a 7-element storage.
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/ok.pth"
        let storage: [Float] = [0, 1, 2, 3, 4, 5, 6]
        writeBytes(legacyCheckpoint([LegacyTensor(name: "w", key: "k", storageCount: 7, offset: 1, size: [2, 3], stride: [1, 2])],
                                    storages: [("k", 7, floatBytes(storage))]), to: path)
        let t = try TorchCheckpoint.read(contentsOf: path)["w"]!
        // element [i, j] = storage[1 + i + 2j]
        #expect(t.shape == [2, 3])
        #expect(t.toArray() == [1, 3, 5, 2, 4, 6])
    }
}
