import Foundation
import Testing
@testable import OmniNN
import OmniTensor

@Suite struct SafeTensorsTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func roundTripIsBitExactForEveryDTypeWithOrderAndMetadata(seed: UInt64) throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/t.safetensors"
        let tensors = everyDTypeTensors(seed: seed)
        let metadata = ["format": "pt", "üñï": "line\nbreak \"quoted\" \\ tab\t", "empty": ""]
        try SafeTensors.write(tensors, metadata: metadata, to: path)
        let back = try SafeTensors.read(contentsOf: path)
        #expect(back.format == .safetensors)
        #expect(back.names == tensors.map(\.name))
        #expect(back.metadata == metadata)
        #expect(back.notes.isEmpty)
        for ((name, t), (_, u)) in zip(tensors, back.tensors) {
            #expect(u.dtype == t.dtype, "\(name)")
            #expect(u.shape == t.shape, "\(name)")
            #expect(rawBytes(u) == rawBytes(t), "\(name): bytes differ after the round trip")
        }
        // Header padded so the data section starts 8-byte aligned.
        let bytes = readBytes(path)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + n) % 8 == 0)
        #expect(bytes[8 + n - 1] == 0x20 || bytes[8 + n - 1] == UInt8(ascii: "}"))
    }

    @Test func readsAFileWrittenByTheSafetensorsLibrary() throws {
        let contents = try SafeTensors.read(contentsOf: fixture("st_all.safetensors"))
        expectMatches(contents.tensors, "st_all.safetensors")
        #expect(contents.metadata == ["format": "pt", "source": "make_fixtures.py"])
        #expect(contents.notes == ["tensor \"i.f64\": F64 converted to float32"])
    }

    @Test func writeIsAtomicAndReplacesTheOldFile() throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/w.safetensors"
        try SafeTensors.write([("a", Tensor([1, 2, 3] as [Float]))], to: path)
        try SafeTensors.write([("b", Tensor([4] as [Float]))], to: path)
        #expect(try SafeTensors.read(contentsOf: path).names == ["b"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["w.safetensors"], "no temporary file left behind")
        // A failed write leaves the old file and no temporary file.
        #expect(throws: WeightsError.self) {
            try SafeTensors.write([("x", Tensor([1] as [Float])), ("x", Tensor([2] as [Float]))], to: path)
        }
        #expect(try SafeTensors.read(contentsOf: path).names == ["b"])
        expectWeightsError(dir + "/missing/dir.safetensors", ["temporary file"]) {
            try SafeTensors.write([("a", Tensor([1] as [Float]))], to: dir + "/missing/dir.safetensors")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["w.safetensors"])
    }

    @Test func refusesBadNamesOnWrite() {
        expectWeightsError("/tmp/never.safetensors", ["__metadata__"]) {
            try SafeTensors.write([("__metadata__", Tensor([1] as [Float]))], to: "/tmp/never.safetensors")
        }
        expectWeightsError("/tmp/never.safetensors", ["appears twice"]) {
            try SafeTensors.write([("a", Tensor([1] as [Float])), ("a", Tensor([1] as [Float]))], to: "/tmp/never.safetensors")
        }
    }

    @Test func misalignedTensorsAreCopiedExactly() throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/big.safetensors"
        let t = Tensor.uniform([64, 64], generator: Generator(seed: 5))
        try SafeTensors.write([("odd", Tensor([1, 2, 3], dtype: .int8)), ("w", t)], to: path)
        // "w" starts 3 bytes into the data section: misaligned for float32, so it is copied,
        // and the values must still be exact.
        let back = try SafeTensors.read(contentsOf: path)
        #expect(rawBytes(back["w"]!) == rawBytes(t))
        #expect(back["odd"]!.toIntArray() == [1, 2, 3])
    }
}
