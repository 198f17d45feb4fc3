// Shared helpers for the encoder and decoder suites: the PyTorch reference fixtures
// (Fixtures/omni_encoders, made by scripts/fixtures/make_omni_encoders.py), slicing one sample's
// real rows out of a padded batch, and the "every trainable parameter gets a gradient" check.
import Foundation
import Testing
@testable import OmniModels
@testable import OmniNN
@testable import OmniTensor

/// One fixture archive: the model's weights by checkpoint key, its inputs and the float64
/// reference outputs (each sample run alone, unpadded, by PyTorch).
struct OmniFixture {
    let params: [String: Tensor]
    let inputs: [String: Tensor]
    let outputs: [String: Tensor]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/omni_encoders")

    init(_ name: String) throws {
        let contents = try NPZ.read(contentsOf: OmniFixture.directory.appendingPathComponent(name + ".npz").path)
        var params: [String: Tensor] = [:], inputs: [String: Tensor] = [:], outputs: [String: Tensor] = [:]
        for (member, tensor) in contents.tensors {
            let parts = member.split(separator: ":", maxSplits: 1).map(String.init)
            switch parts[0] {
            case "param": params[parts[1]] = tensor
            case "input": inputs[parts[1]] = tensor
            case "output": outputs[parts[1]] = tensor
            default: Issue.record("fixture \(name): unexpected member \(member)")
            }
        }
        (self.params, self.inputs, self.outputs) = (params, inputs, outputs)
    }

    func input(_ name: String) -> Tensor { inputs[name]! }
    func ints(_ name: String) -> [Int] { inputs[name]!.toIntArray() }
    func output(_ name: String) -> Tensor? { outputs[name] }
}

/// Sample `b`'s first `n` rows of a padded [B, N, D] batch, as [n, D].
func realRows(_ tokens: Tensor, sample b: Int, count n: Int) -> Tensor {
    tokens.narrowed(axis: 0, start: b, length: 1).narrowed(axis: 1, start: 0, length: n)
        .reshaped([n, tokens.shape[2]]).contiguous()
}

/// Checks a mask against per-sample counts of leading trues.
func expectMask(_ mask: Tensor, counts: [Int], length: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(mask.shape == [counts.count, length], "mask shape \(mask.shape)", sourceLocation: sourceLocation)
    let expected = counts.flatMap { n in (0..<length).map { $0 < n } }
    #expect(mask.toBoolArray() == expected, "mask \(mask.toBoolArray()) for counts \(counts)", sourceLocation: sourceLocation)
}

/// Checks that tokens are exactly 0 wherever the mask is false.
func expectZeroPadding(_ out: ModalityTokens, sourceLocation: SourceLocation = #_sourceLocation) {
    let t = out.tokens.toArray(), m = out.mask.toBoolArray(), d = out.dimension
    for i in m.indices where !m[i] {
        let row = t[(i * d)..<(i * d + d)]
        #expect(row.allSatisfy { $0 == 0 }, "padded token \(i) is not zero: \(Array(row.prefix(4)))", sourceLocation: sourceLocation)
    }
}

/// Runs `loss` forward and backward and expects every trainable parameter to get a finite,
/// non-zero gradient, except those matching `exempt` (which must get a zero one).
func expectGradientsEverywhere<M: Module>(_ model: M, exempt: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
                                          _ loss: (M) -> Tensor) {
    let (value, gradients) = valueAndGrad(model, loss)
    #expect(value.item().isFinite, "loss \(value.item())", sourceLocation: sourceLocation)
    let parameters = model.trainableParameters()
    #expect(!parameters.isEmpty, sourceLocation: sourceLocation)
    for (path, p) in parameters {
        guard let g = gradients[path] else {
            Issue.record("\(path) got no gradient", sourceLocation: sourceLocation)
            continue
        }
        let values = g.toArray()
        let largest = values.map(Swift.abs).max() ?? 0
        #expect(values.allSatisfy { $0.isFinite }, "\(path) has a non-finite gradient", sourceLocation: sourceLocation)
        if exempt.contains(where: { Module.pathMatches(path, pattern: $0) }) {
            let scale = p.toArray().map(Swift.abs).max() ?? 1
            #expect(largest <= 1e-5 * Swift.max(scale, 1), "\(path): expected a vanishing gradient, got \(largest)",
                    sourceLocation: sourceLocation)
        } else {
            #expect(largest > 0, "\(path) got an all-zero gradient", sourceLocation: sourceLocation)
        }
    }
}

/// A scalar loss that weighs every real token differently, so each position's gradient differs.
func weightedTokenLoss(_ out: ModalityTokens, seed: UInt64 = 7) -> Tensor {
    let w = Tensor.uniform(out.tokens.shape, low: -1, high: 1, generator: Generator(seed: seed))
    let real = out.mask.converted(to: .float32).unsqueezed(axis: -1)
    return (out.tokens * w * real).sum() + (out.tokens * out.tokens * real).sum() * 0.1
}
