import Foundation
import Testing
@testable import OmniNN
import OmniTensor

/// SplitMix64: a tiny seeded generator so every mutation is reproducible from its seed.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Values that tend to break length and offset arithmetic.
private let interesting: [UInt64] = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF,
                                     0x8000_0000_0000_0000, .max, 1 << 40, 1 << 55]

/// One seeded mutation of `bytes`: random bytes, an interesting integer, a truncation or a splice.
private func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = bytes
    guard !b.isEmpty else { return b }
    switch rng.below(5) {
    case 0:
        for _ in 0..<(1 + rng.below(4)) { b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next()) }
    case 1:
        let v = interesting[rng.below(interesting.count)]
        let width = [1, 2, 4, 8][rng.below(4)]
        let at = rng.below(b.count)
        for i in 0..<width where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) }
    case 2:
        b = Array(b[..<rng.below(b.count)])
    case 3:
        let from = rng.below(b.count), length = 1 + rng.below(min(64, b.count - from))
        b.insert(contentsOf: b[from..<(from + length)], at: rng.below(b.count))
    default:
        b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
    }
    return b
}

@Suite struct FuzzTests {
    static let sources = ["st_all.safetensors", "npy_f4.npy", "npy_fortran.npy", "npz_stored.npz", "npz_deflated.npz",
                          "torch_zip.pth", "torch_zip_deflated.pth", "torch_zip_protocol4.pth", "torch_legacy.pth", "torch_nested_legacy.pth"]

    /// 300 mutations per source file (3 000 in all): each load succeeds or throws a WeightsError;
    /// it never crashes, hangs or throws anything else. Loaded tensors are read in full.
    @Test(arguments: sources)
    func mutatedFilesLoadOrFailCleanly(source: String) throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let original = readBytes(fixture(source))
        let ext = source.split(separator: ".").last!
        var rng = SplitMix64(state: 0xC0FFEE ^ UInt64(original.count))
        var failures = 0
        for i in 0..<300 {
            let path = dir + "/m\(i % 4).\(ext)"
            writeBytes(mutate(original, &rng), to: path)
            do {
                for (_, t) in try TensorFile.load(path) { _ = rawBytes(t) }
            } catch let error as WeightsError {
                failures += 1
                #expect(error.file == path && !error.message.isEmpty)
            } catch {
                Issue.record("mutation \(i) of \(source) threw \(type(of: error)): \(error)")
            }
        }
        #expect(failures > 0, "no mutation of \(source) was detected")
    }
}
