import Foundation
import Testing
@testable import OmniNN
import OmniTensor

/// An .npy image (version 1.0) with the given header dictionary text and data.
func npyBytes(_ header: String, data: [UInt8] = [], major: UInt8 = 1) -> [UInt8] {
    let h = Array(header.utf8) + [0x0A]
    let length = major == 1 ? le(UInt16(h.count)) : le(UInt32(h.count))
    return [0x93] + Array("NUMPY".utf8) + [major, 0] + length + h + data
}

/// Offsets of the first central-directory entry and of the end record of a zip image.
func zipLayout(_ bytes: [UInt8]) -> (centralEntry: Int, endRecord: Int) {
    let end = (0...(bytes.count - 22)).reversed().first { bytes[$0..<($0 + 4)] == [0x50, 0x4B, 0x05, 0x06] }!
    let cd = Int(bytes[end + 16]) | Int(bytes[end + 17]) << 8 | Int(bytes[end + 18]) << 16 | Int(bytes[end + 19]) << 24
    return (cd, end)
}

func patch(_ bytes: inout [UInt8], at offset: Int, _ value: [UInt8]) {
    bytes.replaceSubrange(offset..<(offset + value.count), with: value)
}

@Suite struct CorruptNumPyTests {
    static let npyCases: [(name: String, bytes: [UInt8], fragments: [String])] = [
        ("bad magic", Array("NOTNUMPY".utf8), ["magic"]),
        ("bad version", npyBytes("{}", major: 9), ["unsupported format version 9.0"]),
        ("huge header length", [0x93] + Array("NUMPY".utf8) + [2, 0] + le(UInt32.max), ["header length 4294967295 exceeds"]),
        ("header past end", [0x93] + Array("NUMPY".utf8) + [1, 0] + le(UInt16(500)) + Array("{'descr'".utf8), ["truncated", "header"]),
        ("complex dtype", npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)),
         ["unsupported dtype '<c8'"]),
        ("object dtype", npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)),
         ["unsupported dtype '|O'"]),
        ("structured dtype", npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]),
         ["structured arrays are not supported"]),
        ("absurd shape", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000,), }", data: [0, 0, 0, 0]),
         ["needs 4000000000000000 data bytes, found 4"]),
        ("overflowing shape", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000000000), }"),
         ["too many elements"]),
        ("too many digits", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"),
         ["expected a non-negative dimension"]),
        ("negative dimension", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"),
         ["expected a non-negative dimension"]),
        ("missing key", npyBytes("{'descr': '<f4', 'shape': (1,), }", data: [0, 0, 0, 0]), ["lacks"]),
        ("unknown key", npyBytes("{'descr': '<f4', 'evil': 1, 'shape': (1,), }", data: [0, 0, 0, 0]), ["unexpected key 'evil'"]),
        ("bad boolean", npyBytes("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", data: [0, 0, 0, 0]),
         ["expected True or False"]),
        ("truncated data", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data: [0, 0, 0, 0]),
         ["needs 12 data bytes, found 4"]),
        ("trailing data", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0, 0]),
         ["needs 4 data bytes, found 5"]),
    ]

    @Test(arguments: npyCases.indices)
    func badNpyIsAWeightsError(index: Int) {
        let c = Self.npyCases[index]
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/bad.npy"
        writeBytes(c.bytes, to: path)
        expectWeightsError(path, c.fragments) { _ = try NPY.read(contentsOf: path) }
        expectWeightsError(path, c.fragments) { _ = try TensorFile.load(path) }
    }

    /// Variants of NumPy's own archive, each damaged in one place.
    static let zipCases: [(name: String, source: String, damage: @Sendable (inout [UInt8]) -> Void, fragments: [String])] = [
        ("not a zip", "npz_stored.npz", { b in b = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 7, count: 40) },
         ["no end-of-central-directory record"]),
        ("truncated end", "npz_stored.npz", { b in b.removeLast(10) }, ["no end-of-central-directory record"]),
        ("directory offset past end", "npz_stored.npz", { b in patch(&b, at: zipLayout(b).endRecord + 16, le(UInt32(0x7FFF_0000))) },
         ["central directory", "runs past the end record"]),
        ("bad directory signature", "npz_stored.npz", { b in patch(&b, at: zipLayout(b).centralEntry, [0, 0, 0, 0]) },
         ["bad signature for central directory entry 0"]),
        ("entry count too large", "npz_stored.npz", { b in
            let e = zipLayout(b).endRecord
            patch(&b, at: e + 8, le(UInt16(0xFFFE))); patch(&b, at: e + 10, le(UInt16(0xFFFE)))
        }, ["65534 entries cannot fit"]),
        ("crc mismatch", "npz_stored.npz", { b in b[zipLayout(b).centralEntry - 1] ^= 0x55 }, ["CRC-32 mismatch"]),
        ("unsupported method", "npz_stored.npz", { b in patch(&b, at: zipLayout(b).centralEntry + 10, le(UInt16(12))) },
         ["compression method 12"]),
        ("local offset past data", "npz_stored.npz", { b in patch(&b, at: zipLayout(b).centralEntry + 42, le(UInt32(0x7FFF_FFF0))) },
         ["outside the archive"]),
        ("local name differs", "npz_stored.npz", { b in b[30] ^= 0x20 }, ["local header", "central directory says"]),
        ("deflate bomb claim", "npz_deflated.npz", { b in patch(&b, at: zipLayout(b).centralEntry + 24, le(UInt32(0xFFFF_FFF0))) },
         ["more than deflate can produce"]),
        ("corrupt deflate stream", "npz_deflated.npz", { b in
            // The first member's compressed bytes follow its 30-byte local header, name and extra field.
            let nameLength = Int(b[26]) | Int(b[27]) << 8, extraLength = Int(b[28]) | Int(b[29]) << 8
            for i in 0..<8 { b[30 + nameLength + extraLength + i] = 0xFF }
        }, ["weight.npy"]),
        ("inflates short", "npz_deflated.npz", { b in
            let cd = zipLayout(b).centralEntry
            let size = Int(b[cd + 24]) | Int(b[cd + 25]) << 8
            patch(&b, at: cd + 24, le(UInt32(size + 100)))
        }, ["weight.npy", "inflates to"]),
    ]

    @Test(arguments: zipCases.indices)
    func badNpzIsAWeightsError(index: Int) {
        let c = Self.zipCases[index]
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/bad.npz"
        var bytes = readBytes(fixture(c.source))
        c.damage(&bytes)
        writeBytes(bytes, to: path)
        expectWeightsError(path, c.fragments) { _ = try NPZ.read(contentsOf: path) }
    }
}
