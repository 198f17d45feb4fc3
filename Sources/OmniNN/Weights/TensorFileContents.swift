import OmniTensor

/// Named tensors read from a file, in file order, with the file's metadata.
///
/// ```swift
/// let contents = try SafeTensors.read(contentsOf: "model.safetensors")
/// let w = contents["encoder.layer.0.attention.self.query.weight"]
/// ```
public struct TensorFileContents: Sendable {
    /// The format the file was read as.
    public var format: TensorFileFormat
    /// The tensors in file order (safetensors header order, state-dict order, archive order).
    public var tensors: [(name: String, tensor: Tensor)]
    /// Free-form string metadata (safetensors `__metadata__`; empty for other formats).
    public var metadata: [String: String]
    /// Things the reader did that a user should know about: conversions (float64 → float32)
    /// and values it skipped (non-tensor entries of a checkpoint).
    public var notes: [String]

    public init(format: TensorFileFormat, tensors: [(name: String, tensor: Tensor)],
                metadata: [String: String] = [:], notes: [String] = []) {
        self.format = format
        self.tensors = tensors
        self.metadata = metadata
        self.notes = notes
    }

    /// The tensor called `name`, if present.
    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name == name }?.tensor
    }

    /// The tensor names in file order.
    public var names: [String] { tensors.map(\.name) }
}
