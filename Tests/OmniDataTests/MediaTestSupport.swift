// Helpers for the FFmpeg audio and video tests: fixture paths, the reference JSON written by
// scripts/fixtures/make_media_fixtures.py, comparisons that report the worst difference and where.
import Foundation
import Testing
@testable import OmniData

/// A fixture under Fixtures/media.
func mediaFixture(_ name: String) -> String { fixturePath("media/\(name)") }

/// A JSON fixture under Fixtures/media as a dictionary.
func mediaJSON(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: mediaFixture(name)))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name) is not a JSON object")
}

/// FNV-1a 64 of bytes (as the fixture script's `fnv1a`), fast enough in debug builds.
func fnv1a64(bytes: [UInt8]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    bytes.withUnsafeBufferPointer { p in
        for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    }
    return String(format: "%016llx", h)
}

/// The 8-bit samples of an image.
func bytes(_ image: Image) -> [UInt8] {
    if case .uint8(let p) = image.pixels { return p }
    return []
}

/// The largest |a − b| and its index (infinite when the counts differ).
func largestDifference(_ a: [Float], _ b: [Float]) -> (value: Double, index: Int) {
    guard a.count == b.count else { return (.infinity, -1) }
    var worst = 0.0, at = 0
    for i in a.indices {
        let d = Swift.abs(Double(a[i]) - Double(b[i]))
        if d > worst || d.isNaN { worst = d; at = i }
    }
    return (worst, at)
}

/// Least-squares fit of `x` to a·sin + b·cos at each frequency plus a constant, in Float64:
/// the amplitude per frequency and the RMS of what the sinusoids leave unexplained.
func fitSinusoids(_ x: [Float], rate: Double, frequencies: [Double]) -> (amplitudes: [Double], residualRMS: Double) {
    let n = x.count, k = 2 * frequencies.count + 1
    var basis = [[Double]](repeating: [Double](repeating: 0, count: n), count: k)
    for i in 0..<n {
        let t = Double(i) / rate
        for (j, f) in frequencies.enumerated() {
            basis[2 * j][i] = Foundation.sin(2 * .pi * f * t)
            basis[2 * j + 1][i] = Foundation.cos(2 * .pi * f * t)
        }
        basis[k - 1][i] = 1
    }
    // normal equations, solved by Gaussian elimination with partial pivoting
    var a = [[Double]](repeating: [Double](repeating: 0, count: k + 1), count: k)
    for r in 0..<k {
        for c in 0..<k { a[r][c] = zip(basis[r], basis[c]).reduce(0) { $0 + $1.0 * $1.1 } }
        a[r][k] = zip(basis[r], x).reduce(0) { $0 + $1.0 * Double($1.1) }
    }
    for col in 0..<k {
        let pivot = (col..<k).max { Swift.abs(a[$0][col]) < Swift.abs(a[$1][col]) }!
        a.swapAt(col, pivot)
        for r in 0..<k where r != col {
            let f = a[r][col] / a[col][col]
            for c in col...k { a[r][c] -= f * a[col][c] }
        }
    }
    let coef = (0..<k).map { a[$0][k] / a[$0][$0] }
    var residual = 0.0
    for i in 0..<n {
        var fit = 0.0
        for j in 0..<k { fit += coef[j] * basis[j][i] }
        residual += (Double(x[i]) - fit) * (Double(x[i]) - fit)
    }
    let amplitudes = frequencies.indices.map { (coef[2 * $0] * coef[2 * $0] + coef[2 * $0 + 1] * coef[2 * $0 + 1]).squareRoot() }
    return (amplitudes, (residual / Double(n)).squareRoot())
}

/// Runs `body`, recording an issue when it takes longer than `seconds` (bad input must fail fast).
func expectQuick<T>(_ what: String, within seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> T) rethrows -> T {
    let start = Date()
    let result = try body()
    let elapsed = Date().timeIntervalSince(start)
    #expect(elapsed < seconds, "\(what) took \(elapsed) s", sourceLocation: sourceLocation)
    return result
}
