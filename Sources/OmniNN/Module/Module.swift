import Foundation
import OmniTensor

/// The base class of every layer and model.
///
/// A module declares its children with ``ModuleInfo`` and its tensors with ``ParameterInfo``;
/// both carry the checkpoint key, so the dotted path of a parameter (`encoder.layer.0.attention.
/// self.query.weight`) is its name in a PyTorch state dict or safetensors file. Traversal uses
/// reflection over those property wrappers, in declaration order.
///
/// ```swift
/// let model = MLP(inputSize: 4, hiddenSize: 8, outputSize: 2, generator: Generator(seed: 0))
/// for (path, p) in model.namedParameters() { print(path, p.shape) }
/// print(model.parameterCount)
/// ```
open class Module: @unchecked Sendable {
    /// Whether the module is in training mode (dropout active, batch statistics used).
    public private(set) var isTraining: Bool = true

    public init() {}

    // MARK: Reflection

    /// Direct children with their keys, in declaration order.
    public func namedChildren() -> [(key: String, module: Module)] {
        var out: [(key: String, module: Module)] = []
        for (label, value) in Module.storedProperties(of: self) {
            if let box = value as? AnyModuleBox {
                for (k, m) in box.children(defaultKey: Module.defaultKey(label)) { out.append((k, m)) }
            }
        }
        return out
    }

    /// This module's own parameter boxes with their keys (not its children's).
    func ownParameterBoxes() -> [(String, AnyParameterBox)] {
        var out: [(String, AnyParameterBox)] = []
        for (label, value) in Module.storedProperties(of: self) {
            if let box = value as? AnyParameterBox { out.append((box.key ?? Module.defaultKey(label), box)) }
        }
        return out
    }

    /// Every parameter box in the tree with its dotted path.
    func parameterBoxes(prefix: String = "") -> [(String, AnyParameterBox)] {
        var out: [(String, AnyParameterBox)] = []
        for (k, b) in ownParameterBoxes() { out.append((prefix + k, b)) }
        for (k, m) in namedChildren() { out += m.parameterBoxes(prefix: prefix + k + ".") }
        return out
    }

    static func storedProperties(of object: AnyObject) -> [(String, Any)] {
        var result: [(String, Any)] = []
        var mirror: Mirror? = Mirror(reflecting: object)
        var chain: [Mirror] = []
        while let m = mirror { chain.append(m); mirror = m.superclassMirror }
        for m in chain.reversed() {
            for child in m.children { if let label = child.label { result.append((label, child.value)) } }
        }
        return result
    }

    static func defaultKey(_ label: String) -> String { label.hasPrefix("_") ? String(label.dropFirst()) : label }

    // MARK: Parameters

    /// Every module in the tree (self first) with its dotted path ("" for self).
    public func namedModules(prefix: String = "") -> [(path: String, module: Module)] {
        var out: [(path: String, module: Module)] = [(prefix, self)]
        for (k, m) in namedChildren() {
            out += m.namedModules(prefix: prefix.isEmpty ? k : prefix + "." + k)
        }
        return out
    }

    /// Every tensor (parameters and buffers) with its dotted checkpoint key, in declaration order.
    public func namedParameters() -> [(path: String, tensor: Tensor)] {
        parameterBoxes().compactMap { p, b in b.tensor.map { (p, $0) } }
    }

    /// The tensors an optimizer updates: trainable and not frozen.
    public func trainableParameters() -> [(path: String, tensor: Tensor)] {
        parameterBoxes().compactMap { p, b in
            b.kind == .trainable && !b.isFrozen ? b.tensor.map { (p, $0) } : nil
        }
    }

    /// The state dict: every parameter and buffer by dotted key.
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters().map { ($0.path, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    /// Number of scalar values in trainable parameters (buffers excluded).
    public var parameterCount: Int {
        parameterBoxes().reduce(0) { $0 + ($1.1.kind == .trainable ? ($1.1.tensor?.count ?? 0) : 0) }
    }

    /// Replaces tensors by dotted key. Keys that name no parameter stop with a message (use
    /// ``load(_:strict:)`` for checkpoints, which reports problems as a thrown error instead).
    public func update(_ values: [String: Tensor]) {
        let boxes = Dictionary(parameterBoxes(), uniquingKeysWith: { a, _ in a })
        for (k, v) in values {
            guard let b = boxes[k] else { preconditionFailure("Module.update: no parameter named \(k)") }
            if let old = b.tensor {
                precondition(old.shape == v.shape, "Module.update: \(k) has shape \(old.shape), got \(v.shape)")
            }
            b.set(v)
        }
    }

    // MARK: Modes

    /// Switches this module and its children to training (`true`) or evaluation mode.
    public func train(_ training: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = training }
    }

    /// Evaluation mode: dropout off, running statistics used.
    public func eval() { train(false) }

    /// Freezes (or unfreezes) every parameter whose dotted path matches `pattern`: a glob where
    /// `*` matches any run of characters, including dots (`"encoder.*"`, `"*.bias"`).
    /// Returns how many parameters matched.
    @discardableResult
    public func freeze(matching pattern: String = "*", _ frozen: Bool = true) -> Int {
        var n = 0
        for (p, b) in parameterBoxes() where b.tensor != nil && Module.glob(pattern, p) { b.isFrozen = frozen; n += 1 }
        return n
    }

    /// Unfreezes the parameters matching `pattern`.
    @discardableResult
    public func unfreeze(matching pattern: String = "*") -> Int { freeze(matching: pattern, false) }

    /// Whether a dotted parameter path matches a glob pattern (`*` = any run of characters,
    /// dots included; `?` = one character).
    public static func pathMatches(_ path: String, pattern: String) -> Bool { glob(pattern, path) }

    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Maps checkpoint tensors onto this module's keys: renames, transposes, splitting fused
    /// tensors. Each model that loads foreign checkpoints overrides this once; layers never do.
    open func sanitize(_ weights: [String: Tensor]) -> [String: Tensor] { weights }

    /// A one-line description used by ``description(indent:)``; override to show hyper-parameters.
    open var summary: String { String(describing: type(of: self)) }

    /// The module tree with parameter counts.
    public func treeDescription() -> String {
        var lines: [String] = []
        func walk(_ m: Module, _ key: String, _ depth: Int) {
            let count = m.parameterCount
            lines.append(String(repeating: "  ", count: depth) + (key.isEmpty ? "" : key + ": ") + m.summary + "  (\(count) parameters)")
            for (k, c) in m.namedChildren() { walk(c, k, depth + 1) }
        }
        walk(self, "", 0)
        return lines.joined(separator: "\n")
    }
}
