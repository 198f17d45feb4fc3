import Foundation

/// A node of the recorded graph: how to turn the gradient of one output into gradients of its inputs.
///
/// Every differentiable primitive records exactly one node with one gradient rule; composite
/// operations (layer norm built from reductions, losses, attention) are differentiated through the
/// primitives they are made of. Leaves (tensors created with ``Tensor/requiringGrad()``) have no
/// rule and accumulate their gradient in `grad`.
final class GradNode: @unchecked Sendable {
    let op: String
    /// Variable only so that `deinit` can unlink them (see there).
    private(set) var parents: [GradNode?]
    let rule: ((Tensor) -> [Tensor?])?
    let shape: [Int]
    /// Accumulated gradient of a leaf (guarded by `lock`: concurrent backward passes may share a leaf).
    private var storedGrad: Tensor?
    private let lock = NSLock()

    var grad: Tensor? { lock.lock(); defer { lock.unlock() }; return storedGrad }

    func clearGrad() { lock.lock(); storedGrad = nil; lock.unlock() }

    init(op: String, parents: [GradNode?], shape: [Int], rule: ((Tensor) -> [Tensor?])?) {
        self.op = op
        self.parents = parents
        self.shape = shape
        self.rule = rule
    }

    /// Releases the chain of ancestors that dies with this node iteratively. The default
    /// (each node releasing its parents from its own deinit) recurses once per node, and a graph
    /// of some 10⁴ ops (a long recurrence, a deep chain) overflows a thread's stack.
    /// Rules must not capture tensors that carry nodes (they capture `detached()` values), so the
    /// parents are the only links between nodes.
    deinit {
        var pending = parents.compactMap { $0 }
        parents = []
        while var node = pending.popLast() {
            // Only we hold it: empty its parents before it dies, so its deinit does not recurse.
            if isKnownUniquelyReferenced(&node) {
                pending.append(contentsOf: node.parents.compactMap { $0 })
                node.parents = []
            }
        }
    }

    func accumulate(_ g: Tensor) {
        lock.lock(); defer { lock.unlock() }
        storedGrad = storedGrad.map { Tensor.addGradients($0, g) } ?? g
    }
}

/// Whether operations record gradients on the current task/thread.
public enum GradMode {
    @TaskLocal static var enabled: Bool = true

    /// Whether gradient recording is on here.
    public static var isEnabled: Bool { enabled }

    /// Runs `body` without recording gradients (like `torch.no_grad()`).
    ///
    /// ```swift
    /// let y = GradMode.withoutGrad { model(x) }
    /// ```
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        try $enabled.withValue(false) { try body() }
    }
}

extension Tensor {
    /// Records `out` as produced by `op` from `inputs`, with `rule` mapping the output's gradient to
    /// one gradient per input (nil where an input gets none). Returns `out` unchanged when no input
    /// requires gradients or recording is off. `rule` must capture only `detached()` tensors: the
    /// graph's nodes may be linked through `inputs` alone (see `GradNode.deinit`).
    static func record(_ out: Tensor, op: String, inputs: [Tensor],
                       rule: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.enabled, inputs.contains(where: { $0.node != nil }) else { return out }
        var result = out
        result.node = GradNode(op: op, parents: inputs.map { $0.node }, shape: out.shape, rule: rule)
        return result
    }

    /// Whether gradients flow into this tensor.
    public var requiresGrad: Bool { node != nil }

    /// A leaf that accumulates gradients (shares storage with self).
    public func requiringGrad() -> Tensor {
        var t = self
        check(dtype.isFloatingPoint, "requiringGrad", "only floating-point tensors can require gradients, got \(dtype)")
        t.node = GradNode(op: "leaf", parents: [], shape: shape, rule: nil)
        return t
    }

    /// The same values, cut from the graph.
    public func detached() -> Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// The gradient accumulated in this leaf by ``backward(_:)`` (nil before any).
    public var grad: Tensor? { node?.grad }

    /// Clears the accumulated gradient of this leaf.
    public func zeroGrad() { node?.clearGrad() }

    /// Back-propagates from this tensor, accumulating into the `grad` of every leaf it depends on.
    ///
    /// - Parameter seed: the gradient of the final objective with respect to this tensor; defaults
    ///   to ones, which requires a one-element tensor.
    public func backward(_ seed: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward: the tensor does not require gradients (no input was marked with requiringGrad())")
        }
        let g0: Tensor
        if let seed {
            check(seed.shape == shape, "backward", "seed of shape \(fmt(seed.shape)) for a tensor of shape \(fmt(shape))")
            g0 = seed
        } else {
            check(count == 1, "backward", "an implicit seed needs a one-element output, got shape \(fmt(shape))")
            g0 = Tensor.ones(shape, dtype: dtype)
        }
        GradMode.withoutGrad { Tensor.runBackward(root: root, seed: g0) }
    }

    /// The sum of two gradients of one tensor. Gradients of bfloat16/float16 tensors have their
    /// dtype (as in PyTorch); they are added in float32 and rounded back.
    static func addGradients(_ a: Tensor, _ b: Tensor) -> Tensor {
        if a.dtype == .float32 && b.dtype == .float32 { return a + b }
        return (a.converted(to: .float32) + b.converted(to: .float32)).converted(to: a.dtype)
    }

    /// Reverse topological sweep (iterative, so deep graphs do not overflow the stack).
    static func runBackward(root: GradNode, seed: Tensor) {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (n, i) = stack.popLast() {
            if i < n.parents.count {
                stack.append((n, i + 1))
                if let p = n.parents[i], visited.insert(ObjectIdentifier(p)).inserted {
                    stack.append((p, 0))
                }
                continue
            }
            order.append(n)
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        for n in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(n)) else { continue }
            guard let rule = n.rule else { n.accumulate(g); continue }
            let inputGrads = rule(g)
            precondition(inputGrads.count == n.parents.count, "autograd: rule of \(n.op) returned \(inputGrads.count) gradients for \(n.parents.count) inputs")
            for (p, ig) in zip(n.parents, inputGrads) {
                guard let p, let ig else { continue }
                precondition(ig.shape == p.shape, "autograd: rule of \(n.op) gave a gradient of shape \(fmt(ig.shape)) for an input of shape \(fmt(p.shape))")
                let key = ObjectIdentifier(p)
                grads[key] = grads[key].map { Tensor.addGradients($0, ig) } ?? ig
            }
        }
    }
}

/// Evaluates `f` at `inputs` and returns its value and the gradient of its (one-element) output
/// with respect to each input. Nothing is accumulated into the inputs themselves. Gradients are
/// recorded inside `f` even when the caller runs under ``GradMode/withoutGrad(_:)``.
///
/// ```swift
/// let (loss, grads) = valueAndGrad([w, b]) { p in ((x.matmul(p[0]) + p[1]) - y).square().mean() }
/// ```
public func valueAndGrad(_ inputs: [Tensor], _ f: ([Tensor]) -> Tensor) -> (value: Tensor, grads: [Tensor]) {
    let leaves = inputs.map { $0.detached().requiringGrad() }
    let value = GradMode.$enabled.withValue(true) { f(leaves) }
    guard value.requiresGrad else {
        return (value, inputs.map { Tensor.zeros($0.shape) })
    }
    value.backward()
    let grads = zip(leaves, inputs).map { leaf, input in leaf.grad ?? Tensor.zeros(input.shape) }
    return (value.detached(), grads)
}
