// Helpers for the signal tests: expected-error checks, scratch files, and comparison against
// Float64 references that reports the largest difference and where.
import Foundation
import Testing
@testable import OmniData

/// Asserts that `body` throws a `SignalError` naming `file` (suffix) and `line`, whose message
/// contains `fragment`.
func expectSignalError(file: String, line: Int? = nil, containing fragment: String,
                       sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a SignalError about '\(fragment)'", sourceLocation: sourceLocation)
    } catch let error as SignalError {
        #expect(error.file.hasSuffix(file), "error names \(error.file), expected \(file)", sourceLocation: sourceLocation)
        #expect(error.line == line, "error \(error) is on line \(error.line.map(String.init) ?? "nil"), expected \(line.map(String.init) ?? "nil")",
                sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "\(error) does not mention '\(fragment)'", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix(error.file), sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a SignalError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Writes `text` to a fresh file named `name` and returns its path.
func writeScratch(_ name: String, _ text: String, in dir: URL) -> String {
    let path = dir.appending(path: name).path
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

/// Largest |a − b| with its index; fails when it exceeds `tolerance`.
func expectClose(_ actual: [Float], _ expected: [Double], tolerance: Double, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    var worst = 0.0, at = -1
    for i in 0..<min(actual.count, expected.count) {
        let d = abs(Double(actual[i]) - expected[i])
        if d > worst || d.isNaN { worst = d; at = i }
    }
    #expect(worst <= tolerance, "\(what): max |diff| \(worst) at index \(at) (got \(at >= 0 ? actual[at] : 0), expected \(at >= 0 ? expected[at] : 0))",
            sourceLocation: sourceLocation)
}

/// Float64 reference STFT magnitude of one channel: reflect padding by nFft/2, periodic Hann,
/// frames t·hop, |Σ x·w·e^{-2πikj/N}| — `[bins][frames]`.
func referenceSTFTMagnitude(_ x: [Double], nFft: Int, hop: Int) -> [[Double]] {
    let n = x.count, pad = nFft / 2, frames = 1 + n / hop, bins = nFft / 2 + 1
    var out = [[Double]](repeating: [Double](repeating: 0, count: frames), count: bins)
    for t in 0..<frames {
        var frame = [Double](repeating: 0, count: nFft)
        for j in 0..<nFft {
            var i = t * hop + j - pad
            if i < 0 { i = -i } else if i >= n { i = 2 * (n - 1) - i }
            frame[j] = x[i] * (0.5 - 0.5 * cos(2 * Double.pi * Double(j) / Double(nFft)))
        }
        for k in 0..<bins {
            var re = 0.0, im = 0.0
            for j in 0..<nFft {
                let a = 2 * Double.pi * Double(k * j % nFft) / Double(nFft)
                re += frame[j] * cos(a); im -= frame[j] * sin(a)
            }
            out[k][t] = (re * re + im * im).squareRoot()
        }
    }
    return out
}
