import Foundation
import Testing
@testable import OmniNN
import OmniTensor

/// Runs the unpickler over `bytes` (no persistent ids allowed).
private func unpickle(_ bytes: [UInt8]) throws -> (PickleValue, PickleArena) {
    try bytes.withUnsafeBytes { buf in
        var u = Unpickler(buf, file: "test.pkl", what: "pickle") { _ in throw WeightsError(file: "test.pkl", "no persistent ids here") }
        return (try u.load(), u.arena)
    }
}

/// One byte per character (U+0000…U+00FF), so opcodes above 0x7F can be written as `\u{86}`.
private func bytes(_ s: String) -> [UInt8] { s.unicodeScalars.map { UInt8($0.value) } }

@Suite struct UnpicklerTests {
    static let badCases: [(name: String, bytes: [UInt8], fragments: [String])] = [
        ("unknown opcode", [0x80, 0x02, 0xFF], ["unknown or unsupported opcode 0xFF", "offset 2"]),
        ("stack underflow on REDUCE", [0x80, 0x02] + bytes("R."), ["stack underflow", "offset 2"]),
        ("stack underflow on STOP", [0x80, 0x02] + bytes("."), ["stack underflow"]),
        ("stack underflow on TUPLE3", [0x80, 0x02] + bytes("N\u{87}."), ["stack underflow"]),
        ("no STOP", [0x80, 0x02] + bytes("N"), ["truncated", "pickle ends without STOP"]),
        ("no MARK", [0x80, 0x02] + bytes("Nt."), ["no MARK"]),
        ("extra values", [0x80, 0x02] + bytes("NN."), ["1 extra values"]),
        ("forbidden GLOBAL", [0x80, 0x02] + bytes("cos\nsystem\n."), ["refusing global os.system"]),
        ("forbidden STACK_GLOBAL", [0x80, 0x04, 0x8C, 0x02] + bytes("os") + [0x8C, 0x06] + bytes("system") + [0x93] + bytes("."),
         ["refusing global os.system"]),
        ("forbidden torch global", [0x80, 0x02] + bytes("ctorch\nload\n."), ["refusing global torch.load"]),
        ("INST", [0x80, 0x02] + bytes("(ios\nsystem\n."), ["refusing opcode INST"]),
        ("OBJ", [0x80, 0x02] + bytes("(o."), ["refusing opcode OBJ"]),
        ("EXT1", [0x80, 0x02, 0x82, 0x01] + bytes("."), ["refusing extension-registry opcode EXT1"]),
        ("undefined memo", [0x80, 0x02] + bytes("h\u{05}."), ["memo entry 5 is not defined"]),
        ("string past end", [0x80, 0x02] + bytes("X") + le(UInt32(1000)) + bytes("abc"), ["length 1000 runs past the end"]),
        ("huge BINUNICODE8", [0x80, 0x04, 0x8D] + le(UInt64.max) + bytes("."), ["runs past the end"]),
        ("bad UTF-8", [0x80, 0x02] + bytes("X") + le(UInt32(1)) + [0xFF] + bytes("."), ["not valid UTF-8"]),
        ("protocol 6", [0x80, 0x06] + bytes("N."), ["unsupported pickle protocol 6"]),
        ("call a non-callable", [0x80, 0x02] + bytes("N)R."), ["REDUCE on a None"]),
        ("call a storage type", [0x80, 0x02] + bytes("ctorch\nFloatStorage\n)R."), ["calling torch.FloatStorage is not supported"]),
        ("APPEND to a dict", [0x80, 0x02] + bytes("}Na."), ["APPEND to a dict"]),
        ("SETITEMS odd", [0x80, 0x02] + bytes("}(Nu."), ["odd number"]),
        ("rebuild without storage", [0x80, 0x02] + bytes("ctorch._utils\n_rebuild_tensor_v2\n(NK\u{00})NNNt") + bytes("R."),
         ["first argument is a None, not a storage"]),
        ("persistent id", [0x80, 0x02] + bytes("NQ."), ["no persistent ids here"]),
    ]

    @Test(arguments: badCases.indices)
    func badPicklesAreRefusedNamingTheProblem(index: Int) {
        let c = Self.badCases[index]
        expectWeightsError("test.pkl", c.fragments) { _ = try unpickle(c.bytes) }
    }

    @Test func decodesScalarsOfEveryProtocol() throws {
        func value(_ b: [UInt8]) throws -> PickleValue { try unpickle(b).0 }
        #expect(try value([0x80, 0x02, 0x8A, 0x01, 0xFF] + bytes(".")).intValue == -1)
        #expect(try value([0x80, 0x02, 0x8A, 0x02, 0x00, 0x80] + bytes(".")).intValue == -32768)
        #expect(try value([0x80, 0x02, 0x8A, 0x09] + le(UInt64(5)) + [0x00] + bytes(".")).intValue == 5)
        guard case .bigInt(let big) = try value([0x80, 0x02, 0x8A, 0x09] + [UInt8](repeating: 0xFF, count: 8) + [0x00] + bytes(".")) else {
            Issue.record("2^72 - 1 should stay a big integer"); return
        }
        #expect(big.count == 9)
        #expect(try value(bytes("J") + le(UInt32(bitPattern: -7)) + bytes(".")).intValue == -7)
        guard case .float(let f) = try value([0x80, 0x02] + bytes("G") + [0x3F, 0xF8, 0, 0, 0, 0, 0, 0] + bytes(".")) else {
            Issue.record("BINFLOAT"); return
        }
        #expect(f == 1.5)
        #expect(try value(bytes("I42\n.")).intValue == 42)
        guard case .bool(true) = try value(bytes("I01\n.")) else { Issue.record("protocol 0 True"); return }
        guard case .float(2.5) = try value(bytes("F2.5\n.")) else { Issue.record("FLOAT"); return }
        #expect(try value(bytes("L123L\n.")).intValue == 123)
        #expect(try value([0x80, 0x04, 0x95] + le(UInt64(3)) + [0x8C, 0x01] + bytes("a.")).stringValue == "a")
        #expect(try value(bytes("U\u{02}hi.")).stringValue == "hi")
        guard case .bytes(let b) = try value([0x80, 0x02] + bytes("c_codecs\nencode\nX") + le(UInt32(2)) + [0xC3, 0xBF]
                                             + bytes("X") + le(UInt32(6)) + bytes("latin1\u{86}R.")) else {
            Issue.record("_codecs.encode"); return
        }
        #expect(b == [0xFF])
    }

    @Test func memoisedContainersAreShared() throws {
        // ] q0 h0 K1 a 0 .  → the list appended to through its memo alias holds [1].
        let (v, arena) = try unpickle([0x80, 0x02] + bytes("]q\u{00}h\u{00}K\u{01}a0."))
        withExtendedLifetime(arena) {
            #expect(v.sequence?.count == 1)
            #expect(v.sequence?.first?.intValue == 1)
        }
    }

    @Test func deeplyNestedPicklesDoNotOverflowTheStack() throws {
        // 200 000 nested 1-tuples: building, walking and freeing them must not recurse.
        let tuples = [0x80, 0x02] + bytes("N") + [UInt8](repeating: 0x85, count: 200_000) + bytes(".")
        let (t, arena) = try unpickle(tuples)
        withExtendedLifetime(arena) {
            expectWeightsError("x.pth", ["deeper than 64"]) {
                _ = try TorchCheckpoint.materialize(t, file: "x.pth", format: .pytorchZip, selecting: [], bigEndian: false) { _ in
                    throw WeightsError(file: "x.pth", "no storages")
                }
            }
        }
        // 100 000 nested pairs (previous value, new list).
        var lists = [0x80, 0x02] + bytes("]")
        for _ in 0..<100_000 { lists += bytes("]") + bytes("\u{86}") }
        lists += bytes(".")
        _ = try unpickle(lists)
    }

    @Test func sharedAndCyclicStructuresAreWalkedOnce() throws {
        // A 60-level DAG in which each tuple holds the previous one twice (2^60 paths), and a list
        // that contains itself: flattening visits each container once and notes the repeats.
        var dag = [0x80, 0x02] + bytes("N")
        for _ in 0..<60 { dag += bytes("q\u{00}h\u{00}\u{86}") }
        dag += bytes(".")
        let (v, arena) = try unpickle(dag)
        let cycle = try unpickle([0x80, 0x02] + bytes("]q\u{00}h\u{00}a."))
        try withExtendedLifetime((arena, cycle.1)) {
            for root in [v, cycle.0] {
                let contents = try TorchCheckpoint.materialize(root, file: "x.pth", format: .pytorchZip, selecting: [], bigEndian: false) { _ in
                    throw WeightsError(file: "x.pth", "no storages")
                }
                #expect(contents.tensors.isEmpty)
                #expect(contents.notes.count == 1 && contents.notes[0].contains("repeated reference"), "\(contents.notes)")
            }
        }
    }
}
