import Foundation
import Testing

/// The parsed JSON of a file in this target's Fixtures folder.
func fixtureJSON(_ name: String) throws -> [String: Any] {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw FixtureMissing(name: name)
    }
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    guard let dictionary = object as? [String: Any] else { throw FixtureMissing(name: name + " (not a JSON object)") }
    return dictionary
}

struct FixtureMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "fixture \(name) is missing from Tests/OmniTrainTests/Fixtures (see scripts/fixtures/)" }
}

/// A fresh empty directory under the system temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = #function) throws {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "omni-train-\(safe)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Numbers from JSON (NSNumber) as Double.
func doubles(_ any: Any?) -> [Double] { (any as? [Any] ?? []).map { ($0 as! NSNumber).doubleValue } }
func ints(_ any: Any?) -> [Int] { (any as? [Any] ?? []).map { ($0 as! NSNumber).intValue } }

/// Expects |a − b| ≤ atol + rtol·|b|, naming what differs.
func expectNear(_ a: Double, _ b: Double, atol: Double = 1e-12, rtol: Double = 1e-9, _ what: String = "",
                sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Swift.abs(a - b) <= atol + rtol * Swift.abs(b), "\(what): got \(a), expected \(b) (difference \(Swift.abs(a - b)))",
            sourceLocation: sourceLocation)
}

/// Float64 helpers for loss references.
enum LossRef {
    static func logSumExp(_ x: [Double]) -> Double {
        let m = x.max()!
        return m + Foundation.log(x.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    /// Mean over rows of −log softmax(row)[target] for an n×n matrix with diagonal targets.
    static func diagonalCrossEntropy(_ logits: [[Double]]) -> Double {
        let n = logits.count
        return (0..<n).reduce(0) { $0 + logSumExp(logits[$1]) - logits[$1][$1] } / Double(n)
    }

    /// Symmetric InfoNCE of rows a, b [n][E] with scale s.
    static func infoNCE(_ a: [[Double]], _ b: [[Double]], scale s: Double) -> Double {
        let n = a.count
        var logits = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n { logits[i][j] = s * zip(a[i], b[j]).reduce(0) { $0 + $1.0 * $1.1 } } }
        let transposed = (0..<n).map { j in (0..<n).map { i in logits[i][j] } }
        return 0.5 * (diagonalCrossEntropy(logits) + diagonalCrossEntropy(transposed))
    }

    static func rows(_ flat: [Double], _ width: Int) -> [[Double]] {
        stride(from: 0, to: flat.count, by: width).map { Array(flat[$0..<($0 + width)]) }
    }

    static func normalized(_ row: [Double], eps: Double = 1e-12) -> [Double] {
        let norm = Swift.max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), eps)
        return row.map { $0 / norm }
    }
}
