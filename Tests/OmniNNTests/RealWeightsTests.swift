import Foundation
import Testing
@testable import OmniNN
import OmniTensor

/// One row of a manifest written by make_fixtures.py from torch.load / safetensors.
private struct ManifestRow {
    let name: String
    let dtype: String
    let shape: [Int]
    let sum: Double
    let absSum: Double
}

private func manifest(_ file: String) -> [ManifestRow] {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixture(file)))
    let rows = try! JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    return rows.map {
        ManifestRow(name: $0["name"] as! String, dtype: $0["dtype"] as! String, shape: $0["shape"] as! [Int],
                    sum: ($0["sum"] as! NSNumber).doubleValue, absSum: ($0["abs_sum"] as! NSNumber).doubleValue)
    }
}

/// Checks every tensor's name (in order), dtype, shape and Float64 sums against the manifest.
private func expectManifest(_ contents: TensorFileContents, _ file: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let rows = manifest(file)
    #expect(contents.names == rows.map(\.name), "\(file): names or order differ", sourceLocation: sourceLocation)
    for (row, (name, t)) in zip(rows, contents.tensors) where row.name == name {
        #expect(t.shape == row.shape, "\(name): shape \(t.shape) != \(row.shape)", sourceLocation: sourceLocation)
        #expect(t.dtype.rawValue == row.dtype, "\(name): dtype \(t.dtype) != \(row.dtype)", sourceLocation: sourceLocation)
        let (sum, absSum) = float64Sums(t)
        // Summation order differs from NumPy's pairwise sum; allow rounding relative to Σ|x|.
        let tol = 1e-9 * max(row.absSum, 1)
        #expect(abs(sum - row.sum) <= tol && abs(absSum - row.absSum) <= tol,
                "\(name): sums \(sum), \(absSum) != \(row.sum), \(row.absSum)", sourceLocation: sourceLocation)
    }
}

/// Σx and Σ|x| in Float64, in one pass over the raw elements (float32 or int64 here).
private func float64Sums(_ t: Tensor) -> (Double, Double) {
    t.withUnsafeBytes { raw in
        var sum = 0.0, absSum = 0.0
        switch t.dtype {
        case .float32:
            for x in raw.bindMemory(to: Float.self) { sum += Double(x); absSum += Double(abs(x)) }
        case .int64:
            for x in raw.bindMemory(to: Int64.self) { sum += Double(x); absSum += Double(x.magnitude) }
        default:
            for x in t.toArray() { sum += Double(x); absSum += Double(abs(x)) }
        }
        return (sum, absSum)
    }
}

/// Compares a (possibly sliced) tensor with a reference .npy written by NumPy, bit-exactly.
private func expectSlice(_ t: Tensor, _ reference: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ref = try NPY.read(contentsOf: fixture(reference))
    #expect(t.shape == ref.shape, "\(reference): shape \(t.shape) != \(ref.shape)", sourceLocation: sourceLocation)
    #expect(t.dtype == ref.dtype, "\(reference): dtype", sourceLocation: sourceLocation)
    let (a, b) = (rawBytes(t), rawBytes(ref))
    if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
        Issue.record("\(reference): first differing byte \(i) (element \(i / t.dtype.size))", sourceLocation: sourceLocation)
    }
    #expect(a.count == b.count, sourceLocation: sourceLocation)
}

@Suite struct RealWeightsTests {
    @Test func mobileNetV2LegacyCheckpointMatchesTorchLoad() throws {
        guard let path = asset("mobilenet_v2/mobilenet_v2-b0353104.pth") else { return }
        let contents = try TorchCheckpoint.read(contentsOf: path)
        #expect(contents.format == .pytorchLegacy)
        #expect(contents.notes.isEmpty)
        #expect(contents.tensors.count == 314)
        #expect(contents["features.0.0.weight"]?.shape == [32, 3, 3, 3])
        #expect(contents["classifier.1.weight"]?.shape == [1000, 1280])
        #expect(contents["features.0.1.num_batches_tracked"]?.dtype == .int64)
        expectManifest(contents, "mobilenet_v2_manifest.json")
        try expectSlice(contents["features.0.0.weight"]!, "mobilenet_v2_features.0.0.weight.npy")
        try expectSlice(contents["classifier.1.weight"]!.narrowed(axis: 0, start: 0, length: 2), "mobilenet_v2_classifier.1.weight_rows0-2.npy")
        try expectSlice(contents["classifier.1.bias"]!, "mobilenet_v2_classifier.1.bias.npy")
        try expectSlice(contents["features.18.1.running_var"]!, "mobilenet_v2_features.18.1.running_var.npy")
        // The entry point detects the legacy format by its first bytes.
        #expect(try TensorFile.format(of: path) == .pytorchLegacy)
    }

    @Test func miniLMSafetensorsMatchesTheSafetensorsLibrary() throws {
        guard let path = asset("minilm/model.safetensors") else { return }
        let contents = try SafeTensors.read(contentsOf: path)
        #expect(contents.metadata == ["format": "pt"])
        #expect(contents["embeddings.word_embeddings.weight"]?.shape == [30522, 384])
        #expect(contents["encoder.layer.0.attention.self.query.weight"]?.shape == [384, 384])
        #expect(contents["embeddings.position_ids"]?.dtype == .int64)
        expectManifest(contents, "minilm_manifest.json")
        try expectSlice(contents["embeddings.word_embeddings.weight"]!.narrowed(axis: 0, start: 100, length: 3),
                        "minilm_embeddings.word_embeddings.weight_rows100-103.npy")
        try expectSlice(contents["encoder.layer.0.attention.self.query.weight"]!.narrowed(axis: 0, start: 0, length: 2),
                        "minilm_encoder.layer.0.attention.self.query.weight_rows0-2.npy")
        try expectSlice(contents["embeddings.LayerNorm.weight"]!, "minilm_embeddings.LayerNorm.weight.npy")
        try expectSlice(contents["embeddings.position_ids"]!, "minilm_embeddings.position_ids.npy")
        #expect(try TensorFile.summary(path).count == contents.tensors.count)
    }

    @Test func whisperMelFiltersNpzLoads() throws {
        // A real .npz from the openai-whisper sdist (np.savez_compressed): 80 and 128 mel banks.
        guard let path = asset("whisper/mel_filters.npz") else { return }
        let contents = try NPZ.read(contentsOf: path)
        #expect(contents.names == ["mel_80", "mel_128"])
        #expect(contents["mel_80"]?.shape == [80, 201])
        #expect(contents["mel_128"]?.shape == [128, 201])
    }
}
