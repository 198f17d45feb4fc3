// Helpers of the image/video encoder tests: fixtures written by scripts/fixtures/make_vit_fixture.py,
// comparisons that name the largest difference, and the every-parameter gradient check.
import Foundation
import Testing
@testable import OmniModels
import OmniNN
import OmniTensor

enum EncoderCheck {
    /// Tests/OmniModelsTests/Fixtures.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The tensors of `Fixtures/<folder>/<file>` by name.
    static func tensors(_ folder: String, _ file: String) throws -> [String: Tensor] {
        let path = fixtures.appendingPathComponent(folder).appendingPathComponent(file).path
        return Dictionary(try TensorFile.load(path).map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    /// Fails unless `actual` and `expected` have one shape and differ by at most `tolerance`
    /// anywhere; the message gives the largest difference and where.
    static func expectNear(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        guard actual.shape == expected.shape else {
            Issue.record("\(what): shape \(actual.shape), expected \(expected.shape)", sourceLocation: sourceLocation)
            return
        }
        let a = actual.toArray(), e = expected.toArray()
        var worst: Float = 0, at = 0
        for i in a.indices {
            let d = Swift.abs(a[i] - e[i])
            if !(d <= worst) { worst = d; at = i }   // NaN counts as the worst
        }
        #expect(worst <= tolerance,
                "\(what): largest difference \(worst) at flat index \(at) (got \(a.isEmpty ? 0 : a[at]), expected \(e.isEmpty ? 0 : e[at]))",
                sourceLocation: sourceLocation)
    }

    /// Runs `loss` forward and backward and fails for every trainable parameter whose gradient is
    /// missing, all zero or not finite.
    static func expectGradientsEverywhere<M: Module>(_ model: M, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                                                     loss: (M) -> Tensor) {
        let (value, gradients) = valueAndGrad(model, loss)
        #expect(value.item().isFinite, "\(what): loss \(value.item())", sourceLocation: sourceLocation)
        let trainable = model.trainableParameters()
        #expect(!trainable.isEmpty, sourceLocation: sourceLocation)
        var dead: [String] = []
        for (path, _) in trainable {
            guard let g = gradients[path] else { dead.append(path + " (none)"); continue }
            let v = g.toArray()
            if !v.allSatisfy(\.isFinite) { dead.append(path + " (not finite)") } else if !v.contains(where: { $0 != 0 }) { dead.append(path) }
        }
        #expect(dead.isEmpty, "\(what): no gradient reaches \(dead.count) of \(trainable.count) parameters: \(dead.joined(separator: ", "))",
                sourceLocation: sourceLocation)
    }

    /// A fixed random image [C, H, W].
    static func image(_ h: Int, _ w: Int, channels: Int = 3, seed: UInt64) -> Tensor {
        Tensor.normal([channels, h, w], generator: Generator(seed: seed))
    }

    /// A fixed random video [T, C, H, W].
    static func video(frames: Int, _ h: Int, _ w: Int, seed: UInt64) -> Tensor {
        Tensor.normal([frames, 3, h, w], generator: Generator(seed: seed))
    }

    /// Row `b` of tokens [B, N, D] up to `length`: [length, D].
    static func row(_ tokens: Tensor, _ b: Int, length: Int) -> Tensor {
        tokens.narrowed(axis: 0, start: b, length: 1).squeezed(axis: 0).narrowed(axis: 0, start: 0, length: length)
    }

    /// Loss that touches every output token with a different weight.
    static func weightedSum(_ tokens: Tensor, seed: UInt64 = 7) -> Tensor {
        (tokens * Tensor.uniform(tokens.shape, low: -1, high: 1, generator: Generator(seed: seed))).sum()
    }
}
