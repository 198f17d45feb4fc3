import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

@Suite struct LinearLayerTests {
    @Test(arguments: [true, false])
    func linearForwardAndGradients(bias: Bool) {
        for seed in testSeeds {
            let layer = Linear(5, 3, bias: bias, generator: Generator(seed: seed))
            #expect(layer.namedParameters().map(\.path) == (bias ? ["weight", "bias"] : ["weight"]))
            #expect(layer.weight.shape == [3, 5] && layer.parameterCount == (bias ? 18 : 15))
            // PyTorch's initialisation bound 1/√in
            #expect(layer.weight.toArray().allSatisfy { Swift.abs($0) <= 1 / Float(5).squareRoot() })
            let x = randomTensor([2, 4, 5], seed: seed)
            let p = parameterValues(layer)
            let ref = NNRef.linear(values(x), p, "", inSize: 5, outSize: 3)
            expectClose(layer(x), ref, shape: [2, 4, 3], "linear seed \(seed)")
            expectClose(layer(nonContiguous(x)), ref, "linear non-contiguous")
        }
        let layer = Linear(5, 3, bias: bias, generator: Generator(seed: 9))
        checkModuleGradients(layer, inputs: [randomTensor([2, 2, 5], seed: 10)], "linear", op: { m, t in m(t[0]) }) { v, p in
            NNRef.linear(v[0], p, "", inSize: 5, outSize: 3)
        }
    }

    @Test func embeddingLooksUpRowsAndScattersGradients() {
        for seed in testSeeds {
            let table = Embedding(7, 4, generator: Generator(seed: seed))
            #expect(table.namedParameters().map(\.path) == ["weight"])
            let ids = Tensor([3, 0, 6, 3, 1, 6], shape: [2, 3])
            let w = values(table.weight)
            let ref = ids.toIntArray().flatMap { Array(w[($0 * 4)..<($0 * 4 + 4)]) }
            expectClose(table(ids), ref, shape: [2, 3, 4], "embedding seed \(seed)")
            expectClose(table(ids.converted(to: .int32)), ref, "embedding int32 ids")
        }
        // repeated ids accumulate their gradients
        let table = Embedding(7, 4, generator: Generator(seed: 5))
        let ids = Tensor([3, 0, 6, 3, 1, 6], shape: [2, 3])
        checkModuleGradients(table, inputs: [ids], constant: [0], "embedding", op: { m, t in m(t[0]) }) { v, p in
            v[0].flatMap { id in Array(p["weight"]![(Int(id) * 4)..<(Int(id) * 4 + 4)]) }
        }
    }

    @Test(arguments: Activation.allCases)
    func mlpEveryActivationGatedAndNot(activation: Activation) {
        for gated in [false, true] {
            for seed in testSeeds {
                let mlp = MLP(inputSize: 4, hiddenSize: 6, outputSize: 3, activation: activation, gated: gated, bias: seed != 2,
                              generator: Generator(seed: seed))
                let x = randomTensor([2, 3, 4], seed: seed)
                let ref = NNRef.mlp(values(x), parameterValues(mlp), "", inSize: 4, hidden: 6, outSize: 3, activation: activation, gated: gated)
                expectClose(mlp(x), ref, shape: [2, 3, 3], "mlp \(activation) gated \(gated) seed \(seed)")
                expectClose(mlp(nonContiguous(x)), ref, "mlp non-contiguous")
            }
            let mlp = MLP(inputSize: 4, hiddenSize: 6, activation: activation, gated: gated, generator: Generator(seed: 4))
            #expect(mlp.namedParameters().count == (gated ? 6 : 4))
            checkModuleGradients(mlp, inputs: [randomTensor([3, 4], seed: 5)], "mlp \(activation) gated \(gated)",
                                 op: { m, t in m(t[0]) }) { v, p in
                NNRef.mlp(v[0], p, "", inSize: 4, hidden: 6, outSize: 4, activation: activation, gated: gated)
            }
        }
    }
}
