import Foundation
import Testing
@testable import OmniNN
import OmniTensor

/// A safetensors image with `header` as its JSON (length field `length` unless nil) and `data`.
func safetensorsBytes(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    return le(length ?? UInt64(h.count)) + h + data
}

@Suite struct CorruptSafeTensorsTests {
    static let cases: [(name: String, bytes: [UInt8], fragments: [String])] = [
        ("empty", [], ["0 bytes is too small"]),
        ("short", [1, 0, 0, 0, 0], ["5 bytes is too small"]),
        ("huge header length", safetensorsBytes("{}", length: 1_000_000_000_000_000), ["header length 1000000000000000 exceeds"]),
        ("header past end", safetensorsBytes("{}", length: 100), ["header length 100 runs past the end"]),
        ("bad JSON", safetensorsBytes(#"{"a": {"dtype": "F32","#), ["invalid JSON"]),
        ("trailing garbage", safetensorsBytes(#"{} x"#), ["invalid JSON", "after the value"]),
        ("not an object", safetensorsBytes("[1]"), ["header is an array"]),
        ("deep nesting", safetensorsBytes(String(repeating: "[", count: 500)), ["nesting deeper than 64"]),
        ("bad escape", safetensorsBytes(#"{"a\q": 1}"#), ["unknown escape"]),
        ("unknown dtype", safetensorsBytes(#"{"a": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}"#, data: [0]),
         ["tensor \"a\"", "unsupported dtype \"F8_E4M3\""]),
        ("dtype not a string", safetensorsBytes(#"{"a": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "dtype is not a string"]),
        ("negative dimension", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "negative dimension"]),
        ("fractional dimension", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "not an integer"]),
        ("absurd shape", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1000000000000000], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "needs 4000000000000000"]),
        ("overflowing shape", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [10000000000, 10000000000, 10000000000], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "too many elements"]),
        ("zero-size overflowing shape", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [0, 10000000000, 10000000000], "data_offsets": [0, 0]}}"#),
         ["tensor \"a\"", "too many elements"]),
        ("offsets past end", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [100], "data_offsets": [0, 400]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "outside the 4-byte data section"]),
        ("offsets reversed", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "outside"]),
        ("offsets overflow Int", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 99999999999999999999999]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "data_offsets must be two integers"]),
        ("missing offsets", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1]}}"#, data: [0, 0, 0, 0]),
         ["tensor \"a\"", "no \"data_offsets\""]),
        ("overlap", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#, data: [UInt8](repeating: 0, count: 12)),
         ["tensor \"b\"", "overlap"]),
        ("gap", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#, data: [UInt8](repeating: 0, count: 12)),
         ["tensor \"b\"", "gap"]),
        ("uncovered tail", safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: [UInt8](repeating: 0, count: 8)),
         ["8 bytes", "cover only 4"]),
        ("duplicate name", safetensorsBytes(#"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}"#, data: [0, 0]),
         ["\"a\" twice"]),
        ("metadata not strings", safetensorsBytes(#"{"__metadata__": {"epoch": 3}}"#), ["__metadata__", "\"epoch\"", "expected a string"]),
        ("bad UTF-8 name", safetensorsBytes("{\"\u{FFFD}\": 1}").map { $0 == 0xEF ? 0xFF : $0 }, ["not valid UTF-8"]),
    ]

    @Test(arguments: cases.indices)
    func badInputIsAWeightsErrorNamingTheProblem(index: Int) throws {
        let c = Self.cases[index]
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/bad.safetensors"
        writeBytes(c.bytes, to: path)
        expectWeightsError(path, c.fragments) { _ = try SafeTensors.read(contentsOf: path) }
        // The entry point routes a damaged .safetensors file to the same reader.
        expectWeightsError(path, c.fragments) { _ = try TensorFile.load(path) }
    }

    @Test func everyTruncationOfARealFileIsAnError() throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let bytes = readBytes(fixture("st_all.safetensors"))
        let path = dir + "/cut.safetensors"
        for n in 0..<bytes.count {
            writeBytes(Array(bytes[..<n]), to: path)
            #expect(throws: WeightsError.self, "truncated to \(n) bytes") { _ = try SafeTensors.read(contentsOf: path) }
        }
    }

    @Test func missingFileNamesIt() {
        expectWeightsError("/nonexistent/x.safetensors", ["cannot open"]) {
            _ = try SafeTensors.read(contentsOf: "/nonexistent/x.safetensors")
        }
        expectWeightsError("/tmp", ["not a regular file"]) { _ = try SafeTensors.read(contentsOf: "/tmp") }
    }
}
