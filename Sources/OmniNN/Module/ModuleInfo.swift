import OmniTensor

/// Declares a child module (or an optional child, or an array of children) and its checkpoint key.
///
/// The dotted path of every parameter is its state-dict / safetensors name, so the key is the
/// name the checkpoint uses, which may differ from the Swift property name:
///
/// ```swift
/// final class Attention: Module {
///     @ModuleInfo(key: "q_proj") var queryProjection: Linear
///     init(dim: Int, generator: Generator) {
///         super.init()
///         queryProjection = Linear(dim, dim, generator: generator)   // assigned after super.init()
///     }
/// }
/// ```
///
/// Arrays of modules get keys `key.0`, `key.1`, … as PyTorch's `nn.ModuleList` does; an array
/// under the empty key (`@ModuleInfo(key: "")`) gets bare indices `0`, `1`, …, the children of a
/// module that is itself an `nn.Sequential` (torchvision's `features.1.0.…`). Dictionaries
/// `[String: Module]` get `key.name` (sorted by name), as `nn.ModuleDict` does.
@propertyWrapper
public final class ModuleInfo<Value>: @unchecked Sendable {
    /// The checkpoint key; nil means "the property name without its leading underscore".
    public let key: String?
    var value: Value?

    public var wrappedValue: Value {
        get {
            guard let value else { preconditionFailure("module '\(key ?? "?")' used before it was assigned in init") }
            return value
        }
        set { value = newValue }
    }

    public init(wrappedValue: Value, key: String? = nil) {
        self.value = wrappedValue
        self.key = key
    }

    /// Declares the key; assign the module in the owner's init, after `super.init()`.
    public init(key: String? = nil) {
        self.value = nil
        self.key = key
    }

    /// The module(s) held, as an ordered list of (key suffix, module).
    func children(defaultKey: String) -> [(String, Module)] {
        let k = key ?? defaultKey
        guard let value else { return [] }
        switch value as Any {
        case let m as Module: return [(k, m)]
        case let ms as [Module]: return ms.enumerated().map { (k.isEmpty ? "\($0.offset)" : "\(k).\($0.offset)", $0.element) }
        case let named as [String: Module]:
            // PyTorch's nn.ModuleDict: `key.name`, in sorted order so traversal is deterministic.
            return named.keys.sorted().map { (k.isEmpty ? $0 : "\(k).\($0)", named[$0]!) }
        case let opt as Module?:
            if let m = opt { return [(k, m)] }
            return []
        default: return []
        }
    }
}

/// What a tensor held by a module is for.
public enum ParameterKind: Sendable {
    /// Trained by optimizers (weights, biases).
    case trainable
    /// Saved and loaded with the module but not trained (running statistics, position tables).
    case buffer
}

/// Declares a parameter (or an optional parameter) and its checkpoint key.
///
/// ```swift
/// @ParameterInfo(key: "weight") var weight: Tensor
/// @ParameterInfo(key: "running_mean", kind: .buffer) var runningMean: Tensor
/// ```
@propertyWrapper
public final class ParameterInfo<Value>: @unchecked Sendable {
    public let key: String?
    public let kind: ParameterKind
    /// Frozen parameters keep their values during training (see ``Module/freeze(matching:)``).
    public var isFrozen: Bool = false
    var value: Value?

    public var wrappedValue: Value {
        get {
            guard let value else { preconditionFailure("parameter '\(key ?? "?")' used before it was assigned in init") }
            return value
        }
        set { value = newValue }
    }

    public init(wrappedValue: Value, key: String? = nil, kind: ParameterKind = .trainable) {
        self.value = wrappedValue
        self.key = key
        self.kind = kind
    }

    /// Declares the key; assign the tensor in the owner's init, after `super.init()`.
    public init(key: String? = nil, kind: ParameterKind = .trainable) {
        self.value = nil
        self.key = key
        self.kind = kind
    }
}

/// Type-erased access to a ``ParameterInfo`` box, for traversal and updates.
protocol AnyParameterBox: AnyObject {
    var key: String? { get }
    var kind: ParameterKind { get }
    var isFrozen: Bool { get set }
    var tensor: Tensor? { get }
    func set(_ t: Tensor)
}

extension ParameterInfo: AnyParameterBox {
    var tensor: Tensor? {
        guard let value else { return nil }
        switch value as Any {
        case let t as Tensor: return t
        case let t as Tensor?: return t
        default: return nil
        }
    }

    func set(_ t: Tensor) {
        if let v = t as? Value { wrappedValue = v; return }
        if let v = Optional(t) as? Value { wrappedValue = v; return }
        preconditionFailure("ParameterInfo: cannot store a Tensor in a property of type \(Value.self)")
    }
}

/// Type-erased access to a ``ModuleInfo`` box.
protocol AnyModuleBox: AnyObject {
    func children(defaultKey: String) -> [(String, Module)]
}

extension ModuleInfo: AnyModuleBox {}
