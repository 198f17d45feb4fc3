import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

@Suite struct PositionLayerTests {
    /// Float64 RoPE reference on a flat [rows, T, D] buffer.
    func ropeReference(_ x: [Double], rows: Int, t: Int, d: Int, offset: Int, interleaved: Bool) -> [Double] {
        var out = x
        let half = d / 2
        for r in 0..<rows {
            for p in 0..<t {
                for i in 0..<half {
                    let angle = Double(offset + p) * pow(10_000.0, -2.0 * Double(i) / Double(d))
                    let (a, b) = interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
                    let base = (r * t + p) * d
                    out[base + a] = x[base + a] * cos(angle) - x[base + b] * sin(angle)
                    out[base + b] = x[base + b] * cos(angle) + x[base + a] * sin(angle)
                }
            }
        }
        return out
    }

    @Test(arguments: [RotaryEmbedding.Layout.halves, .interleaved])
    func rotaryMatchesReferenceAndGradients(layout: RotaryEmbedding.Layout) {
        let rope = RotaryEmbedding(dimension: 6, layout: layout)
        for seed in testSeeds {
            let x = randomTensor([2, 2, 5, 6], seed: seed)
            let ref = ropeReference(values(x), rows: 4, t: 5, d: 6, offset: 3, interleaved: layout == .interleaved)
            expectClose(rope(x, offset: 3), ref, shape: [2, 2, 5, 6], "rope \(layout)")
            expectClose(rope(nonContiguous(x), offset: 3), ref, "rope non-contiguous")
        }
        let x = randomTensor([1, 3, 6], seed: 9)
        checkGradients([x], "rope", op: { rope($0[0], offset: 1) },
                       reference: { ropeReference($0[0], rows: 1, t: 3, d: 6, offset: 1, interleaved: layout == .interleaved) })
    }

    @Test func rotaryIsRelative() {
        // <rope(q, m), rope(k, n)> depends only on m - n
        let rope = RotaryEmbedding(dimension: 8)
        let q = randomTensor([1, 8], seed: 1), k = randomTensor([1, 8], seed: 2)
        let a = (rope(q, offset: 7) * rope(k, offset: 4)).sum().item()
        let b = (rope(q, offset: 13) * rope(k, offset: 10)).sum().item()
        #expect(Swift.abs(a - b) < 1e-4)
    }

    @Test func sinusoidalTable() {
        let pe = SinusoidalPositionalEncoding(dimension: 4).table(count: 3, offset: 2)
        var ref: [Double] = []
        for p in 2..<5 { for i in 0..<2 { let a = Double(p) / pow(10_000, Double(2 * i) / 4); ref += [sin(a), cos(a)] } }
        expectClose(pe, ref, shape: [3, 4])
    }
}

@Suite struct MLPTests {
    @Test(arguments: [false, true]) func forwardAndGradients(gated: Bool) {
        let g = Generator(seed: 5)
        let mlp = MLP(inputSize: 3, hiddenSize: 5, outputSize: 2, activation: .silu, gated: gated, generator: g)
        let x = randomTensor([4, 3], seed: 6)
        let params = mlp.namedParameters()
        #expect(params.map(\.path) == (gated
            ? ["gate_proj.weight", "gate_proj.bias", "up_proj.weight", "up_proj.bias", "down_proj.weight", "down_proj.bias"]
            : ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]))
        func silu(_ v: Double) -> Double { v / (1 + exp(-v)) }
        func linear(_ x: [Double], _ w: [Double], _ b: [Double], n: Int, i: Int, o: Int) -> [Double] {
            var y = [Double](repeating: 0, count: n * o)
            for r in 0..<n { for j in 0..<o { var s = b[j]; for k in 0..<i { s += x[r * i + k] * w[j * i + k] }; y[r * o + j] = s } }
            return y
        }
        // reference over (x, all parameters in declaration order)
        func reference(_ v: [[Double]]) -> [Double] {
            if gated {
                let a = linear(v[0], v[1], v[2], n: 4, i: 3, o: 5).map(silu)
                let u = linear(v[0], v[3], v[4], n: 4, i: 3, o: 5)
                return linear(zip(a, u).map(*), v[5], v[6], n: 4, i: 5, o: 2)
            }
            return linear(linear(v[0], v[1], v[2], n: 4, i: 3, o: 5).map(silu), v[3], v[4], n: 4, i: 5, o: 2)
        }
        let inputs = [x] + params.map(\.tensor)
        expectClose(mlp(x), reference(inputs.map(values)), shape: [4, 2], "mlp forward")
        checkGradients(inputs, "mlp", op: { t in
            mlp.update(Dictionary(uniqueKeysWithValues: zip(params.map(\.path), t.dropFirst())))
            return mlp(t[0])
        }, reference: reference)
    }
}
