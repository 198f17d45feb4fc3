// Shared helpers for the weights I/O tests: fixture and asset locations, the expected values
// that make_fixtures.py stored in expected.json, bit-exact comparison, and temporary files.
import Foundation
import Testing
@testable import OmniNN
import OmniTensor

/// The folder holding the committed fixtures (made by Fixtures/make_fixtures.py).
let fixturesDirectory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

func fixture(_ name: String) -> String { fixturesDirectory + "/" + name }

/// The folder scripts/fetch-assets fills: $OMNI_ASSETS, else ~/.cache/omni.
var assetsDirectory: String {
    if let env = ProcessInfo.processInfo.environment["OMNI_ASSETS"], !env.isEmpty { return env }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/omni").path
}

/// The path of a real-model asset, or nil after recording a failure that says how to get it.
func asset(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    let path = assetsDirectory + "/" + relative
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("missing asset \(path): run scripts/fetch-assets (make test runs it; set OMNI_ASSETS to use another folder)",
                     sourceLocation: sourceLocation)
        return nil
    }
    return path
}

/// One tensor as make_fixtures.py described it.
struct ExpectedTensor {
    let name: String
    let dtype: DType
    let shape: [Int]
    /// Float values (exact as Double) or integers, in C order; NaN for "nan".
    let values: [Double]
    let intValues: [Int64]
}

/// expected.json: fixture file name → its tensors in file order.
let expectedTensors: [String: [ExpectedTensor]] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixture("expected.json")))
    let root = try! JSONSerialization.jsonObject(with: data) as! [String: [[String: Any]]]
    return root.mapValues { rows in
        rows.map { row in
            let raw = row["values"] as! [Any]
            let doubles = raw.map { v -> Double in
                switch v as? String {
                case "nan": return .nan
                case "inf": return .infinity
                case "-inf": return -.infinity
                default: return (v as! NSNumber).doubleValue
                }
            }
            let ints = raw.map { v -> Int64 in (v as? NSNumber)?.int64Value ?? 0 }
            return ExpectedTensor(name: row["name"] as! String, dtype: DType(rawValue: row["dtype"] as! String)!,
                                  shape: row["shape"] as! [Int], values: doubles, intValues: ints)
        }
    }
}()

/// Checks names (in order), dtypes, shapes and values bit-exactly; reports the first mismatch.
func expectMatches(_ tensors: [(name: String, tensor: Tensor)], _ key: String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    guard let expected = expectedTensors[key] else {
        Issue.record("expected.json has no entry \(key)", sourceLocation: sourceLocation)
        return
    }
    #expect(tensors.map(\.name) == expected.map(\.name), "\(key): tensor names/order", sourceLocation: sourceLocation)
    for (e, got) in zip(expected, tensors) where e.name == got.name {
        let t = got.tensor
        #expect(t.dtype == e.dtype, "\(key) \(e.name): dtype \(t.dtype) != \(e.dtype)", sourceLocation: sourceLocation)
        #expect(t.shape == e.shape, "\(key) \(e.name): shape \(t.shape) != \(e.shape)", sourceLocation: sourceLocation)
        guard t.count == e.values.count else { continue }
        if t.dtype.isFloatingPoint {
            let v = t.toArray()
            if let i = (0..<v.count).first(where: { !sameFloat(v[$0], Float(e.values[$0])) }) {
                Issue.record("\(key) \(e.name): value at flat index \(i) is \(v[i]), expected \(e.values[i])", sourceLocation: sourceLocation)
            }
        } else {
            let v = t.toIntArray()
            if let i = (0..<v.count).first(where: { Int64(v[$0]) != e.intValues[$0] }) {
                Issue.record("\(key) \(e.name): value at flat index \(i) is \(v[i]), expected \(e.intValues[i])", sourceLocation: sourceLocation)
            }
        }
    }
}

/// Bit-identical, except that any NaN equals any NaN.
func sameFloat(_ a: Float, _ b: Float) -> Bool {
    (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
}

/// The tensor's bytes in C order.
func rawBytes(_ t: Tensor) -> [UInt8] { t.withUnsafeBytes { Array($0) } }

/// A fresh temporary directory, removed by the caller with `cleanUp`.
func makeTemporaryDirectory() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-weights-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func cleanUp(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

func readBytes(_ path: String) -> [UInt8] { Array(try! Data(contentsOf: URL(fileURLWithPath: path))) }

/// Writes `bytes` with plain POSIX calls (Foundation's Data.write is ~10× slower here, and the
/// fuzz and truncation tests write thousands of files).
func writeBytes(_ bytes: [UInt8], to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot create \(path)")
    defer { close(fd) }
    var done = 0
    bytes.withUnsafeBytes { buf in
        while done < buf.count {
            let n = write(fd, buf.baseAddress! + done, buf.count - done)
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
    }
}

/// Runs `body`, which must throw a WeightsError naming `file` and containing every fragment.
func expectWeightsError(_ file: String, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a WeightsError containing \(fragments), but loading succeeded", sourceLocation: sourceLocation)
    } catch let error as WeightsError {
        #expect(error.file == file, "error names \(error.file), expected \(file)", sourceLocation: sourceLocation)
        for f in fragments where !error.message.contains(f) {
            Issue.record("error \"\(error.message)\" does not mention \"\(f)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a WeightsError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

/// Tensors of every dtype with awkward values (signed zero, extremes, NaN, subnormals), from `seed`.
func everyDTypeTensors(seed: UInt64) -> [(name: String, tensor: Tensor)] {
    let g = Generator(seed: seed)
    let floats = Tensor.concatenated([
        Tensor([0, -0.0, Float(bitPattern: 0x0001_1BC4), -3.4e38, .infinity, -.infinity, .nan, 65504, 1e-7] as [Float]),
        Tensor.normal([15], generator: g),
    ], axis: 0).reshaped([4, 6])
    return [
        ("f32", floats),
        ("bf16", floats.converted(to: .bfloat16)),
        ("f16", floats.sliced(axis: 1, start: 0, end: 3).converted(to: .float16)),
        ("i8", Tensor.randint([3, 5], low: -128, high: 128, generator: g).converted(to: .int8)),
        ("u8", Tensor.randint([7], low: 0, high: 256, generator: g).converted(to: .uint8)),
        ("i32", Tensor([Int(Int32.min), -1, 0, Int(Int32.max)], shape: [2, 2], dtype: .int32)),
        ("i64", Tensor([Int.min, -1, 0, 1 << 53 + 1, Int.max], shape: [5])),
        ("bool", Tensor([true, false, false, true, true], shape: [5, 1])),
        ("scalar", Tensor(Float(2.5))),
        ("empty", Tensor.zeros([2, 0, 3])),
        ("strided", floats.transposed()),  // written from a non-contiguous view
    ]
}
