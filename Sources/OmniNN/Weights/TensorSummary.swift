import OmniTensor

/// One line of a tensor file's table of contents (what `omni inspect` prints).
public struct TensorSummary: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// The dtype the tensor loads as.
    public let dtype: DType
    public let shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes the loaded tensor occupies.
    public var byteCount: Int { count * dtype.size }

    public var description: String {
        "\(name)\t\(dtype)\t[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
