// Helpers for the image tests: fixture and asset paths, a tiny .npy reader, FNV-1a hashing and
// sample comparison that reports the largest difference and where.
import Foundation
import Testing
@testable import OmniData

/// A file under Tests/OmniDataTests/Fixtures (copied into the test bundle).
func fixturePath(_ name: String) -> String {
    (Bundle.module.resourceURL ?? Bundle.module.bundleURL).appendingPathComponent("Fixtures/\(name)").path
}

/// A fixture under Fixtures/images.
func imageFixture(_ name: String) -> String { fixturePath("images/\(name)") }

/// The path of an asset fetched by scripts/fetch-assets ($OMNI_ASSETS, else ~/.cache/omni), or nil
/// after recording a failure that says how to get it. Tests never skip silently.
func assetPath(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    let root = ProcessInfo.processInfo.environment["OMNI_ASSETS"]
        ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/omni")
    let path = root + "/" + relative
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("asset \(path) is missing: run scripts/fetch-assets (or make assets) first",
                     sourceLocation: sourceLocation)
        return nil
    }
    return path
}

/// An array read from a NumPy .npy file (version 1/2, C order, little-endian u1, u2, f4).
struct NpyArray {
    enum Values { case uint8([UInt8]), uint16([UInt16]), float32([Float]) }
    let shape: [Int]
    let values: Values

    /// Every value widened to Int (integer arrays).
    var ints: [Int] {
        switch values {
        case .uint8(let v): return v.map(Int.init)
        case .uint16(let v): return v.map(Int.init)
        case .float32(let v): return v.map { Int($0) }
        }
    }

    var floats: [Float] {
        switch values {
        case .float32(let v): return v
        case .uint8(let v): return v.map(Float.init)
        case .uint16(let v): return v.map(Float.init)
        }
    }

    init(path: String) throws {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        struct Bad: Error, CustomStringConvertible { let description: String }
        guard data.count > 10, data[0] == 0x93, data[1...5].elementsEqual(Array("NUMPY".utf8)) else {
            throw Bad(description: "\(path): not an .npy file")
        }
        let major = data[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(data[8]) | Int(data[9]) << 8
            start = 10
        } else {
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            start = 12
        }
        let header = String(decoding: data[start..<(start + headerLength)], as: UTF8.self)
        guard header.contains("'fortran_order': False") else { throw Bad(description: "\(path): Fortran order") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
        else { throw Bad(description: "\(path): no shape in \(header)") }
        let dims = header[open.upperBound..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        shape = dims
        let count = dims.reduce(1, *)
        let body = Array(data[(start + headerLength)...])
        func load<T>(_: T.Type) throws -> [T] {
            guard body.count == count * MemoryLayout<T>.size else {
                throw Bad(description: "\(path): \(body.count) bytes for shape \(dims)")
            }
            return body.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        if header.contains("'descr': '|u1'") {
            values = .uint8(try load(UInt8.self))
        } else if header.contains("'descr': '<u2'") {
            values = .uint16(try load(UInt16.self))
        } else if header.contains("'descr': '<f4'") {
            values = .float32(try load(Float.self))
        } else {
            throw Bad(description: "\(path): unsupported dtype in \(header)")
        }
    }
}

/// The samples of an image widened to Int.
func samples(_ image: Image) -> [Int] {
    switch image.pixels {
    case .uint8(let p): return p.map(Int.init)
    case .uint16(let p): return p.map(Int.init)
    }
}

/// FNV-1a 64 over the samples' bytes (little-endian for 16-bit), as the fixture script.
func fnv1a64(_ image: Image) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    switch image.pixels {
    case .uint8(let p): for b in p { mix(b) }
    case .uint16(let p): for v in p { mix(UInt8(v & 0xFF)); mix(UInt8(v >> 8)) }
    }
    return String(format: "%016llx", h)
}

/// Expects `image` to hold exactly the [H, W, C] array in `npy` (or within `tolerance` levels);
/// the failure gives the count of differing samples and the largest difference with its position.
func expectPixels(_ image: Image, _ npy: NpyArray, tolerance: Int = 0, _ what: String,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    let shape = [image.height, image.width, image.channels]
    guard npy.shape == shape else {
        Issue.record("\(what): image is \(shape) (HWC), reference \(npy.shape)", sourceLocation: sourceLocation)
        return
    }
    let got = samples(image), want = npy.ints
    var worst = 0, worstAt = 0, differing = 0
    for i in 0..<got.count where got[i] != want[i] {
        differing += 1
        if abs(got[i] - want[i]) > worst { worst = abs(got[i] - want[i]); worstAt = i }
    }
    if worst > tolerance {
        let c = image.channels, p = worstAt / c
        let message = "\(what): \(differing) samples differ, largest by \(worst) at x \(p % image.width) y "
            + "\(p / image.width) channel \(worstAt % c) (got \(got[worstAt]), expected \(want[worstAt]))"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

/// Reads a fixture .npy, recording a failure (and returning nil) when it cannot.
func loadNpy(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> NpyArray? {
    do { return try NpyArray(path: path) } catch {
        Issue.record("cannot read \(path): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Decodes a file, recording the error (and returning nil) when it throws.
func decode(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Image? {
    do { return try Image(contentsOfFile: path) } catch {
        Issue.record("decoding failed: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
