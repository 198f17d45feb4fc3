// The autograd engine: accumulation through reuse, views, broadcasting and diamonds; backward /
// zeroGrad / withoutGrad / detached / valueAndGrad semantics; deep graphs; misuse messages.
import Foundation
import Testing
@testable import OmniTensor

@Suite struct AutogradTests {
    /// x used several times in one expression: the gradients of every use add up.
    @Test func reuseAccumulates() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed)
            checkGradients([x], "x*x + x + x*x*x", op: { let x = $0[0]; return x * x + x + x * x * x },
                           reference: { $0[0].map { $0 * $0 + $0 + $0 * $0 * $0 } })
            // by hand: d/dx Σ(x·x + x) = 2x + 1
            let leaf = x.requiringGrad()
            (leaf * leaf + leaf).sum().backward()
            expectClose(leaf.grad!, values(x).map { 2 * $0 + 1 }, shape: [3, 4], "Σ(x² + x) by hand")
        }
    }

    /// Gradients through views of one leaf (transpose, slice, broadcast) meet at the leaf.
    @Test func throughViewsAndBroadcasting() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed), b = randomTensor([4, 1], seed: seed + 5)
            checkGradients([x, b], "views and broadcasting", op: { p in
                let (x, b) = (p[0], p[1])
                let t = x.transposed() * b                                     // [4, 3] · [4, 1]
                let s = x.sliced(axis: 1, start: 1, step: 2).flipped(axes: [0]) // [3, 2]
                return t.transposed().narrowed(axis: 1, start: 0, length: 2) + s + x.expanded(to: [2, 3, 4]).sum(axis: 0).narrowed(axis: 1, start: 2, length: 2)
            }, reference: { v in
                let (x, b) = (v[0], v[1])
                return (0..<6).map { k in
                    let (i, j) = (k / 2, k % 2)
                    return x[i * 4 + j] * b[j] + x[(2 - i) * 4 + 1 + 2 * j] + 2 * x[i * 4 + 2 + j]
                }
            })
            // gradient shapes follow the inputs, not the broadcast output
            let a = randomTensor([3, 1], seed: seed).requiringGrad(), c = randomTensor([1, 4], seed: seed).requiringGrad()
            (a * c).sum().backward()
            #expect(a.grad!.shape == [3, 1] && c.grad!.shape == [1, 4])
            expectClose(a.grad!, [Double](repeating: values(c).reduce(0, +), count: 3), "broadcast gradient of a")
            expectClose(c.grad!, [Double](repeating: values(a).reduce(0, +), count: 4), "broadcast gradient of c")
        }
    }

    /// a = exp(x) feeds two branches that meet again (a diamond).
    @Test func diamondGraph() {
        for seed in testSeeds {
            let x = randomTensor([5], seed: seed, low: -1, high: 1)
            checkGradients([x], "diamond", op: { p in
                let a = p[0].exp()
                let left = a * 2, right = a.sin()
                return left * right + a
            }, reference: { $0[0].map { let a = Foundation.exp($0); return 2 * a * Foundation.sin(a) + a } })
            // a nested diamond sharing an inner node between three paths
            checkGradients([x, randomTensor([5], seed: seed + 1)], "two inputs, shared node", op: { p in
                let s = p[0] * p[1]
                return s * s + s.exp() * p[0] - s
            }, reference: { v in (0..<5).map { let s = v[0][$0] * v[1][$0]; return s * s + Foundation.exp(s) * v[0][$0] - s } })
        }
    }

    @Test func backwardAccumulatesAndZeroGradClears() {
        let x = Tensor([1, -2, 3] as [Float]).requiringGrad()
        #expect(x.grad == nil)
        let y = (x * x).sum()
        y.backward()
        expectClose(x.grad!, [2, -4, 6], atol: 0, rtol: 0, "first backward")
        y.backward()
        expectClose(x.grad!, [4, -8, 12], atol: 0, rtol: 0, "second backward accumulates")
        (x * 3).sum().backward()
        expectClose(x.grad!, [7, -5, 15], atol: 0, rtol: 0, "another graph accumulates into the same leaf")
        x.zeroGrad()
        #expect(x.grad == nil)
        y.backward()
        expectClose(x.grad!, [2, -4, 6], atol: 0, rtol: 0, "after zeroGrad")
        // copies of a leaf value share the leaf
        let alias = x
        alias.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func explicitSeed() {
        for seed in testSeeds {
            let x = randomTensor([2, 3], seed: seed)
            let s = randomTensor([2, 3], seed: seed + 9)
            let leaf = x.requiringGrad()
            (leaf * leaf).backward(s)
            expectClose(leaf.grad!, zip(values(x), values(s)).map { 2 * $0 * $1 }, shape: [2, 3], "seeded backward")
        }
        let leaf = Tensor([2, 3] as [Float]).requiringGrad()
        leaf.backward(Tensor([5, 7] as [Float]))
        expectClose(leaf.grad!, [5, 7], atol: 0, rtol: 0, "backward on a leaf stores the seed")
    }

    @Test func withoutGradRecordsNothing() {
        let x = Tensor([1, 2, 3] as [Float]).requiringGrad()
        #expect(GradMode.isEnabled)
        let (y, inner) = GradMode.withoutGrad { ((x * x).exp().sum(), GradMode.isEnabled) }
        #expect(!inner && !y.requiresGrad && GradMode.isEnabled)
        let nested = GradMode.withoutGrad { GradMode.withoutGrad { x + 1 } }
        #expect(!nested.requiresGrad)
        // views and copies too
        let v = GradMode.withoutGrad { [x.reshaped([3, 1]), x.sliced(axis: 0, start: 1), x.flipped(axes: [0]).contiguous(), x.converted(to: .bfloat16)] }
        #expect(v.allSatisfy { !$0.requiresGrad })
        #expect((x * 2).requiresGrad, "recording resumes after the block")
    }

    @Test func withoutGradIsInheritedByChildTasks() async {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        let recorded = await GradMode.$enabled.withValue(false) {
            await Task { (x * x).requiresGrad }.value
        }
        #expect(!recorded)
        #expect(await Task { (x * x).requiresGrad }.value)
    }

    @Test func detachedCutsTheGraph() {
        for seed in testSeeds {
            let x = randomTensor([4], seed: seed).requiringGrad()
            let d = x.detached()
            #expect(!d.requiresGrad && d.storage === x.storage)
            (d * x).sum().backward()
            expectClose(x.grad!, values(x), "only the attached factor carries gradient")
            let y = randomTensor([4], seed: seed).requiringGrad()
            #expect(!((y * 2).detached() + 1).requiresGrad)
        }
    }

    @Test func constantsGetNoGradient() {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        let c = Tensor([3, 4] as [Float])
        (x * c).sum().backward()
        #expect(c.grad == nil && !c.requiresGrad)
        expectClose(x.grad!, [3, 4], atol: 0, rtol: 0, "gradient of x")
    }

    @Test func valueAndGrad() {
        for seed in testSeeds {
            let w = randomTensor([3, 2], seed: seed), b = randomTensor([2], seed: seed + 1), unused = randomTensor([5], seed: seed)
            let x = randomTensor([4, 3], seed: seed + 2)
            let (value, grads) = OmniTensor.valueAndGrad([w, b, unused]) { p in (x.matmul(p[0]) + p[1]).square().mean() }
            // reference
            let (wv, bv, xv) = (values(w), values(b), values(x))
            var loss = 0.0
            var gw = [Double](repeating: 0, count: 6), gb = [Double](repeating: 0, count: 2)
            for i in 0..<4 {
                for j in 0..<2 {
                    var y = bv[j]
                    for k in 0..<3 { y += xv[i * 3 + k] * wv[k * 2 + j] }
                    loss += y * y / 8
                    gb[j] += 2 * y / 8
                    for k in 0..<3 { gw[k * 2 + j] += 2 * y / 8 * xv[i * 3 + k] }
                }
            }
            #expect(!value.requiresGrad)
            expectClose(value, [loss], shape: [], "value")
            expectClose(grads[0], gw, shape: [3, 2], "grad w")
            expectClose(grads[1], gb, shape: [2], "grad b")
            expectClose(grads[2], [0, 0, 0, 0, 0], shape: [5], atol: 0, rtol: 0, "grad of an unused input is zero")
        }
        // inputs are left untouched, even leaves that require gradients
        let p = Tensor([1, 2] as [Float]).requiringGrad()
        let (_, g) = OmniTensor.valueAndGrad([p]) { ($0[0] * $0[0]).sum() }
        expectClose(g[0], [2, 4], atol: 0, rtol: 0, "grad")
        #expect(p.grad == nil && p.requiresGrad)
        // a function that ignores its input entirely
        let (v0, g0) = OmniTensor.valueAndGrad([Tensor([1, 2, 3] as [Float])]) { _ in Tensor(Float(4)) }
        #expect(v0.item() == 4 && g0[0].shape == [3] && g0[0].toArray() == [0, 0, 0])
    }

    /// valueAndGrad differentiates even where the caller turned recording off.
    @Test func valueAndGradInsideWithoutGrad() {
        let (value, grads) = GradMode.withoutGrad {
            OmniTensor.valueAndGrad([Tensor([3, -1] as [Float])]) { ($0[0] * $0[0] * $0[0]).sum() }
        }
        #expect(value.item() == 26)
        expectClose(grads[0], [27, 3], atol: 0, rtol: 0, "gradient computed inside withoutGrad")
        #expect(!GradMode.withoutGrad { GradMode.isEnabled }, "the caller's mode is restored")
    }

    /// 20 000 chained ops: neither the backward sweep nor the release of the graph may recurse per
    /// node. Runs on a thread with a 1 MiB stack (smaller than the 8 MiB main thread's), where
    /// per-node recursion of even ~60 bytes would overflow.
    @Test func deepChainDoesNotOverflowTheStack() {
        final class Box: @unchecked Sendable { var grad: [Float] = [] }
        let box = Box()
        let n = 20_000
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                let x = Tensor([Float(1)]).requiringGrad()
                var y = x
                for i in 0..<n { y = i % 2 == 0 ? y * 1.0001 : y + 0.5 }
                y.sum().backward()
                box.grad = x.grad!.toArray()
            }   // the graph is released here, on this thread
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        #expect(box.grad.count == 1)
        if let g = box.grad.first {
            let want = Foundation.pow(Double(Float(1.0001)), Double(n / 2))
            #expect(Swift.abs(Double(g) - want) < 1e-3 * want, "gradient through \(n) ops: \(g), expected \(want)")
        }
    }

    /// The same through matmul, whose rule once captured its inputs (and so their nodes).
    @Test func deepChainThroughMatmul() {
        final class Box: @unchecked Sendable { var grad: [Float] = [] }
        let box = Box()
        let n = 10_000
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                let x = Tensor([Float(1)], shape: [1, 1]).requiringGrad()
                let w = Tensor([Float(1.0001)], shape: [1, 1])
                var y = x
                for _ in 0..<n { y = y.matmul(w) }
                y.sum().backward()
                box.grad = x.grad!.toArray()
            }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        let want = Foundation.pow(Double(Float(1.0001)), Double(n))
        #expect(box.grad.count == 1 && Swift.abs(Double(box.grad.first ?? 0) - want) < 1e-3 * want, "got \(box.grad), expected \(want)")
    }

    /// Backward passes of separate graphs running concurrently accumulate into a shared leaf safely.
    @Test func concurrentBackwardIntoSharedLeaf() async {
        let x = Tensor([1, 2, 3] as [Float]).requiringGrad()
        await withTaskGroup(of: Void.self) { group in
            for k in 1...8 {
                group.addTask { (x * Float(k)).sum().backward() }
            }
        }
        expectClose(x.grad!, [36, 36, 36], atol: 0, rtol: 0, "Σk over 8 concurrent passes")
    }

    // MARK: Misuse

    @Test func backwardOnNonScalarWithoutSeedStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor.ones([2, 3]).requiringGrad()
            (x * 2).backward()
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("backward: an implicit seed needs a one-element output, got shape [2, 3]"), "stderr was: \(e)")
    }

    @Test func backwardSeedShapeMismatchStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor.ones([2, 3]).requiringGrad()
            (x * 2).backward(Tensor.ones([3, 2]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("backward: seed of shape [3, 2] for a tensor of shape [2, 3]"), "stderr was: \(e)")
    }

    @Test func backwardWithoutGraphStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Tensor.ones([1]).sum().backward()
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("backward: the tensor does not require gradients"), "stderr was: \(e)")
    }
}
