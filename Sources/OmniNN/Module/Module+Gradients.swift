import OmniTensor

/// Evaluates `loss` on `model` and returns its value and the gradient of every trainable,
/// unfrozen parameter by dotted key.
///
/// Parameters are swapped for fresh gradient leaves for the duration of the call and restored
/// (detached) afterwards, so no graph outlives the call.
///
/// ```swift
/// let (loss, grads) = valueAndGrad(model) { m in crossEntropy(m(x), y) }
/// optimizer.update(model, gradients: grads)
/// ```
public func valueAndGrad<M: Module>(_ model: M, _ loss: (M) -> Tensor) -> (value: Tensor, gradients: [String: Tensor]) {
    let boxes = model.parameterBoxes().filter { $0.1.kind == .trainable && !$0.1.isFrozen && $0.1.tensor != nil }
    var leaves: [(String, AnyParameterBox, Tensor, Tensor)] = []
    for (path, box) in boxes {
        let original = box.tensor!
        let leaf = original.detached().requiringGrad()
        box.set(leaf)
        leaves.append((path, box, original, leaf))
    }
    defer { for (_, box, original, _) in leaves { box.set(original.detached()) } }
    let value = loss(model)
    var grads: [String: Tensor] = [:]
    if value.requiresGrad {
        value.backward()
    }
    for (path, _, original, leaf) in leaves {
        grads[path] = leaf.grad ?? Tensor.zeros(original.shape)
    }
    return (value.detached(), grads)
}
