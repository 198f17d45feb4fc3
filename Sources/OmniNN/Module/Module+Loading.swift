import OmniTensor

/// Why a checkpoint does not fit a module: every problem at once, each with its full dotted path.
public struct LoadError: Error, CustomStringConvertible, Sendable {
    /// A key the module has but the checkpoint lacks.
    public var missing: [String] = []
    /// A key the checkpoint has but the module does not use.
    public var unused: [String] = []
    /// A key present in both with a different shape or an incompatible dtype.
    public var mismatched: [(key: String, expected: String, found: String)] = []
    /// The checkpoint file, when known.
    public var file: String?

    public var isEmpty: Bool { missing.isEmpty && unused.isEmpty && mismatched.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
        if !unused.isEmpty { parts.append("unused keys: " + unused.joined(separator: ", ")) }
        if !mismatched.isEmpty {
            parts.append("mismatched: " + mismatched.map { "\($0.key) (model \($0.expected), checkpoint \($0.found))" }.joined(separator: ", "))
        }
        return (file.map { "\($0): " } ?? "") + "checkpoint does not match the model — " + parts.joined(separator: "; ")
    }
}

extension Module {
    /// Loads tensors by dotted key after passing them through ``sanitize(_:)``.
    ///
    /// Strict loading (the default) checks everything first and throws one ``LoadError`` that lists
    /// every missing key, unused key and shape/dtype mismatch; nothing is assigned unless all fit.
    /// Floating-point tensors are converted to the parameter's dtype (a float16 checkpoint loads
    /// into a float32 model); integer and bool tensors must match exactly.
    ///
    /// ```swift
    /// let weights = try SafeTensors.load(path).tensors()
    /// try model.load(weights, file: path)
    /// ```
    public func load(_ weights: [String: Tensor], strict: Bool = true, file: String? = nil) throws(LoadError) {
        let incoming = sanitize(weights)
        let boxes = parameterBoxes()
        var error = LoadError(file: file)
        var assignments: [(AnyParameterBox, Tensor)] = []
        var used = Set<String>()
        for (path, box) in boxes {
            guard let current = box.tensor else { continue }
            guard let t = incoming[path] else {
                error.missing.append(path)
                continue
            }
            used.insert(path)
            let compatible = t.dtype == current.dtype || (t.dtype.isFloatingPoint && current.dtype.isFloatingPoint)
            if t.shape != current.shape || !compatible {
                error.mismatched.append((path, "\(current.dtype) \(current.shape)", "\(t.dtype) \(t.shape)"))
                continue
            }
            assignments.append((box, t.dtype == current.dtype ? t : t.converted(to: current.dtype)))
        }
        error.unused = incoming.keys.filter { !used.contains($0) }.sorted()
        if !strict { error.missing = []; error.unused = [] }
        if !error.isEmpty { throw error }
        for (box, t) in assignments { box.set(t.detached()) }
    }
}
