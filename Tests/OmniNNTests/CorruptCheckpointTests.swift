import Foundation
import Testing
@testable import OmniNN
import OmniTensor

@Suite struct CorruptCheckpointTests {
    static let seven = floatBytes([0, 1, 2, 3, 4, 5, 6])
    static func w(_ size: [Int], _ stride: [Int], offset: Int = 0, count: Int = 7, type: String = "FloatStorage") -> LegacyTensor {
        LegacyTensor(name: "w", storageType: type, key: "k", storageCount: count, offset: offset, size: size, stride: stride)
    }

    static let legacyCases: [(name: String, bytes: [UInt8], fragments: [String])] = [
        ("bad magic", legacyCheckpoint([w([7], [1])], storages: [("k", 7, seven)], magic: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
         ["bad magic number"]),
        ("forbidden global", legacyCheckpoint([w([7], [1])], storages: [("k", 7, seven)], extraGlobal: ("os", "system")),
         ["refusing global os.system"]),
        ("forbidden builtin", legacyCheckpoint([w([7], [1])], storages: [("k", 7, seven)], extraGlobal: ("builtins", "eval")),
         ["refusing global builtins.eval"]),
        ("unsupported storage type", legacyCheckpoint([w([7], [1], type: "ShortStorage")], storages: [("k", 7, seven)]),
         ["refusing global torch.ShortStorage", "element type are not supported"]),
        ("count differs from pickle", legacyCheckpoint([w([5], [1])], storages: [("k", 5, seven)]),
         ["storage \"k\" holds 5 elements, the pickle says 7"]),
        ("truncated storage", legacyCheckpoint([w([7], [1])], storages: [("k", 7, Array(seven[..<20]))]),
         ["truncated", "data of storage \"k\""]),
        ("missing storage", legacyCheckpoint([w([7], [1])], storages: []), ["storage \"k\"", "missing from the storage list"]),
        ("unused storage", legacyCheckpoint([w([7], [1])], storages: [("k", 7, seven), ("other", 1, [0, 0, 0, 0])]),
         ["storage \"other\" is listed but no tensor uses it"]),
        ("size past storage", legacyCheckpoint([w([8], [1])], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "lie outside storage \"k\""]),
        ("offset past storage", legacyCheckpoint([w([2], [1], offset: 6)], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "offset 6", "lie outside"]),
        ("stride past storage", legacyCheckpoint([w([2, 2], [5, 2])], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "lie outside"]),
        ("negative stride", legacyCheckpoint([w([2], [-1], offset: 3)], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "lie outside"]),
        ("negative offset", legacyCheckpoint([w([2], [1], offset: -1)], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "lie outside"]),
        ("absurd size", legacyCheckpoint([w([1_000_000_000_000_000], [1])], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "lie outside"]),
        ("overflowing size", legacyCheckpoint([w([1 << 40, 1 << 40], [1, 1])], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "too many elements"]),
        ("expansion bomb", legacyCheckpoint([w([1 << 20, 1 << 20], [0, 0])], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "expands 28 storage bytes"]),
        ("size and stride ranks differ", legacyCheckpoint([w([7], [1, 1])], storages: [("k", 7, seven)]),
         ["tensor \"w\"", "differ in rank"]),
        ("absurd storage count", legacyCheckpoint([w([7], [1], count: 1 << 50)], storages: [("k", 1 << 50, seven)]),
         ["truncated", "data of storage \"k\""]),
    ]

    @Test(arguments: legacyCases.indices)
    func badLegacyCheckpointIsAWeightsError(index: Int) {
        let c = Self.legacyCases[index]
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/bad.pth"
        writeBytes(c.bytes, to: path)
        expectWeightsError(path, c.fragments) { _ = try TorchCheckpoint.read(contentsOf: path) }
        expectWeightsError(path, c.fragments) { _ = try TensorFile.load(path) }
    }

    @Test func truncationsOfARealLegacyFileAreErrors() {
        // Every cut through the magic, version and system-info pickles and the start of the main
        // pickle, then every 3rd cut through the rest of the pickles and the storage data.
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let bytes = readBytes(fixture("torch_legacy.pth"))
        let path = dir + "/cut.pth"
        for n in Array(0..<300) + Array(stride(from: 300, to: bytes.count, by: 3)) {
            writeBytes(Array(bytes[..<n]), to: path)
            #expect(throws: WeightsError.self, "truncated to \(n) bytes") { _ = try TorchCheckpoint.read(contentsOf: path) }
        }
    }

    /// A zip checkpoint assembled member by member: `archive/data.pkl` plus the given members.
    static func zipCheckpoint(at path: String, pickle: [UInt8], members: [(String, [UInt8])]) throws {
        let zip = try ZipWriter(path: path)
        for (name, bytes) in [("archive/data.pkl", pickle)] + members {
            try zip.addStored(name: name, size: bytes.count, crc: bytes.withUnsafeBytes { ZipArchive.crc32($0) }) { try $0.write(bytes) }
        }
        try zip.finish()
    }

    static func zipPickle(count: Int, size: [Int]) -> [UInt8] {
        var p = PickleBuilder()
        p.emptyOrderedDict()
        p.string("w")
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.mark(); p.string("storage"); p.global("torch", "FloatStorage"); p.string("0"); p.string("cpu"); p.int(count); p.tuple()
        p.op("Q")
        p.int(0); p.ints(size); p.ints([1]); p.raw([0x89]); p.emptyOrderedDict()
        p.tuple()
        p.reduce()
        p.op("s")
        p.stop()
        return p.bytes
    }

    @Test func zipCheckpointStoragesAreChecked() throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/z.pth"
        try Self.zipCheckpoint(at: path, pickle: Self.zipPickle(count: 7, size: [7]), members: [("archive/data/0", Self.seven)])
        #expect(try TorchCheckpoint.read(contentsOf: path)["w"]!.toArray() == [0, 1, 2, 3, 4, 5, 6])

        try Self.zipCheckpoint(at: path, pickle: Self.zipPickle(count: 7, size: [7]), members: [("archive/data/0", Array(Self.seven[..<8]))])
        expectWeightsError(path, ["storage \"0\"", "holds 8 bytes", "7 elements need 28"]) { _ = try TorchCheckpoint.read(contentsOf: path) }

        try Self.zipCheckpoint(at: path, pickle: Self.zipPickle(count: 7, size: [7]), members: [("archive/data/1", Self.seven)])
        expectWeightsError(path, ["storage \"0\" has no member archive/data/0"]) { _ = try TorchCheckpoint.read(contentsOf: path) }

        try Self.zipCheckpoint(at: path, pickle: Self.zipPickle(count: 7, size: [9]), members: [("archive/data/0", Self.seven)])
        expectWeightsError(path, ["tensor \"w\"", "lie outside storage \"0\""]) { _ = try TorchCheckpoint.read(contentsOf: path) }

        try Self.zipCheckpoint(at: path, pickle: Array(Self.zipPickle(count: 7, size: [7]).dropLast(3)), members: [("archive/data/0", Self.seven)])
        expectWeightsError(path, ["archive/data.pkl", "truncated"]) { _ = try TorchCheckpoint.read(contentsOf: path) }

        try Self.zipCheckpoint(at: path, pickle: Self.zipPickle(count: 7, size: [7]), members: [("archive/data/0", Self.seven), ("archive/byteorder", Array("middle".utf8))])
        expectWeightsError(path, ["byteorder", "middle"]) { _ = try TorchCheckpoint.read(contentsOf: path) }

        let npz = fixture("npz_stored.npz")
        expectWeightsError(npz, ["no single <name>/data.pkl member"]) { _ = try TorchCheckpoint.read(contentsOf: npz) }
    }

    @Test func untypedStorageWithRebuildV3UsesTheGivenDType() throws {
        // _rebuild_tensor_v3(UntypedStorage, offset, size, stride, requires_grad, hooks, dtype):
        // offsets and strides count float32 elements over a byte storage.
        var p = PickleBuilder()
        p.emptyOrderedDict()
        p.string("w")
        p.global("torch._utils", "_rebuild_tensor_v3")
        p.mark()
        p.mark(); p.string("storage"); p.global("torch", "UntypedStorage"); p.string("0"); p.string("cpu"); p.int(28); p.tuple()
        p.op("Q")
        p.int(1); p.ints([3]); p.ints([2]); p.raw([0x89]); p.emptyOrderedDict(); p.global("torch", "float32")
        p.tuple()
        p.reduce()
        p.op("s")
        p.stop()
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/v3.pth"
        try Self.zipCheckpoint(at: path, pickle: p.bytes, members: [("archive/data/0", Self.seven)])
        let t = try TorchCheckpoint.read(contentsOf: path)["w"]!
        #expect(t.dtype == .float32)
        #expect(t.toArray() == [1, 3, 5])
    }

    @Test func bigEndianZipCheckpointsAreSwapped() throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/be.pth"
        let values: [Float] = [1.5, -2, 3.25, 0, 1e-3, 7, 8]
        let big = values.flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian) { Array($0) } }
        try Self.zipCheckpoint(at: path, pickle: Self.zipPickle(count: 7, size: [7]),
                               members: [("archive/byteorder", Array("big".utf8)), ("archive/data/0", big)])
        #expect(try TorchCheckpoint.read(contentsOf: path)["w"]!.toArray() == values)
    }
}
