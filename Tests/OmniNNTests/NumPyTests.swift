import Foundation
import Testing
@testable import OmniNN
import OmniTensor

@Suite struct NumPyTests {
    static let npyFixtures = ["npy_f4", "npy_f8", "npy_f2", "npy_i1", "npy_u1", "npy_i4", "npy_i8", "npy_b1",
                              "npy_scalar", "npy_empty", "npy_fortran", "npy_big_endian", "npy_v2", "npy_v3"]

    @Test(arguments: npyFixtures)
    func readsArraysWrittenByNumPy(name: String) throws {
        let t = try NPY.read(contentsOf: fixture(name + ".npy"))
        expectMatches([(name, t)], name + ".npy")
    }

    @Test func fortranOrderComesBackInCOrder() throws {
        // The expected values were flattened in C order by NumPy; the file stores them transposed.
        let t = try NPY.read(contentsOf: fixture("npy_fortran.npy"))
        #expect(t.shape == [3, 4, 2])
        #expect(t.isContiguous)
    }

    @Test func float64IsConvertedWithANote() throws {
        let contents = try TensorFile.read(contentsOf: fixture("npy_f8.npy"))
        #expect(contents.notes == ["npy: float64 converted to float32"])
        #expect(contents.tensors[0].tensor.dtype == .float32)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func npyRoundTripIsBitExact(seed: UInt64) throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        for (name, t) in everyDTypeTensors(seed: seed) where t.dtype != .bfloat16 {
            let path = dir + "/\(name).npy"
            try NPY.write(t, to: path)
            let back = try NPY.read(contentsOf: path)
            #expect(back.dtype == t.dtype && back.shape == t.shape, "\(name)")
            #expect(rawBytes(back) == rawBytes(t), "\(name): bytes differ")
            // Data starts 64-byte aligned, as NumPy writes it.
            #expect((readBytes(path).count - t.count * t.dtype.size) % 64 == 0, "\(name)")
        }
    }

    @Test func bfloat16CannotBeWrittenToNpy() {
        expectWeightsError("/tmp/never.npy", ["bfloat16"]) {
            try NPY.write(Tensor([1] as [Float]).converted(to: .bfloat16), to: "/tmp/never.npy")
        }
    }

    @Test(arguments: ["npz_stored.npz", "npz_deflated.npz"])
    func readsArchivesWrittenByNumPy(name: String) throws {
        let contents = try NPZ.read(contentsOf: fixture(name))
        expectMatches(contents.tensors, name)
        #expect(contents.notes == ["npz member \"bias.npy\": float64 converted to float32"])
    }

    @Test(arguments: [UInt64(1), 2])
    func npzRoundTripIsBitExact(seed: UInt64) throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/a.npz"
        let tensors = everyDTypeTensors(seed: seed).filter { $0.tensor.dtype != .bfloat16 }
        try NPZ.write(tensors, to: path)
        let back = try NPZ.read(contentsOf: path)
        #expect(back.names == tensors.map(\.name))
        for ((name, t), (_, u)) in zip(tensors, back.tensors) {
            #expect(u.dtype == t.dtype && u.shape == t.shape, "\(name)")
            #expect(rawBytes(u) == rawBytes(t), "\(name): bytes differ")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.npz"])
    }

    @Test func npzSkipsNonArrayMembersWithANote() throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/mixed.npz"
        let zip = try ZipWriter(path: path)
        let text = Array("hello".utf8)
        try zip.addStored(name: "README.txt", size: text.count, crc: text.withUnsafeBytes { ZipArchive.crc32($0) }) { try $0.write(text) }
        try zip.finish()
        let contents = try NPZ.read(contentsOf: path)
        #expect(contents.tensors.isEmpty)
        #expect(contents.notes == ["member \"README.txt\" is not an .npy array; skipped"])
    }
}
