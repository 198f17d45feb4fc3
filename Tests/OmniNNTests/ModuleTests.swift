import Testing
@testable import OmniNN
@testable import OmniTensor

final class TwoLayer: Module {
    @ModuleInfo(key: "fc1") var first: Linear
    @ModuleInfo(key: "blocks") var blocks: [Linear]
    @ParameterInfo(key: "scale") var scale: Tensor
    @ParameterInfo(key: "running", kind: .buffer) var running: Tensor

    init(generator g: Generator) {
        super.init()
        self.first = Linear(3, 4, generator: g)
        self.blocks = [Linear(4, 4, generator: g), Linear(4, 2, bias: false, generator: g)]
        self.scale = Tensor.ones([2])
        self.running = Tensor.zeros([2])
    }

    func callAsFunction(_ x: Tensor) -> Tensor { blocks[1](blocks[0](first(x).relu())) * scale }
}

@Suite struct ModuleTests {
    @Test func pathsAreCheckpointKeysInDeclarationOrder() {
        let m = TwoLayer(generator: Generator(seed: 1))
        #expect(m.namedParameters().map(\.path) == [
            "scale", "running", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
        ])
        #expect(m.parameterCount == 2 + 12 + 4 + 16 + 4 + 8)
        #expect(m.trainableParameters().map(\.path).contains("running") == false)
    }

    @Test func strictLoadingReportsEveryProblemAtOnce() throws {
        let m = TwoLayer(generator: Generator(seed: 1))
        var sd = m.stateDict()
        sd.removeValue(forKey: "fc1.bias")                 // missing
        sd["fc9.weight"] = Tensor.zeros([1])               // unused
        sd["blocks.0.weight"] = Tensor.zeros([4, 5])       // mis-shaped
        let before = m.first.weight.toArray()
        do {
            try m.load(sd, file: "ckpt.safetensors")
            Issue.record("load should have thrown")
        } catch {
            #expect(error.missing == ["fc1.bias"])
            #expect(error.unused == ["fc9.weight"])
            #expect(error.mismatched.map(\.key) == ["blocks.0.weight"])
            let text = error.description
            #expect(text.contains("ckpt.safetensors") && text.contains("fc1.bias") && text.contains("fc9.weight") && text.contains("blocks.0.weight"))
        }
        #expect(m.first.weight.toArray() == before, "a failed strict load must assign nothing")
    }

    @Test func loadAssignsAndConvertsFloatDtypes() throws {
        let a = TwoLayer(generator: Generator(seed: 1)), b = TwoLayer(generator: Generator(seed: 2))
        var sd = a.stateDict()
        sd["scale"] = sd["scale"]!.converted(to: .float16)
        try b.load(sd)
        for (p, t) in a.namedParameters() { #expect(b.stateDict()[p]!.toArray() == t.toArray(), "\(p)") }
        #expect(b.stateDict()["scale"]!.dtype == .float32)
    }

    @Test func freezeByPatternAndGradients() {
        let m = TwoLayer(generator: Generator(seed: 3))
        #expect(m.freeze(matching: "blocks.*") == 3)
        let x = Tensor.normal([5, 3], generator: Generator(seed: 4))
        let (_, grads) = valueAndGrad(m) { m in m(x).square().sum() }
        #expect(Set(grads.keys) == ["scale", "fc1.weight", "fc1.bias"])
        // gradient of fc1.bias against central differences through the module
        let g = grads["fc1.bias"]!.toArray()
        let b0 = m.first.bias!.toArray()
        for i in 0..<4 {
            var plus = b0, minus = b0
            plus[i] += 1e-2; minus[i] -= 1e-2
            m.first.bias = Tensor(plus); let fp = Double(m(x).square().sum().item())
            m.first.bias = Tensor(minus); let fm = Double(m(x).square().sum().item())
            m.first.bias = Tensor(b0)
            let numeric = (fp - fm) / 2e-2
            #expect(Swift.abs(numeric - Double(g[i])) <= 1e-2 * Swift.max(1, Swift.abs(numeric)), "bias[\(i)]: \(numeric) vs \(g[i])")
        }
        #expect(m.unfreeze() == 7)
    }

    @Test func globMatching() {
        #expect(Module.glob("encoder.*", "encoder.layer.0.weight"))
        #expect(Module.glob("*.bias", "a.b.bias"))
        #expect(!Module.glob("*.bias", "a.b.weight"))
        #expect(Module.glob("a?c", "abc"))
    }
}
