import OmniTensor

/// The activations layers can be configured with (Codable, for model configs).
public enum Activation: String, Sendable, Codable, CaseIterable {
    case relu, gelu, geluTanh = "gelu_tanh", silu, tanh, sigmoid

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: return x.relu()
        case .gelu: return x.gelu()
        case .geluTanh: return x.gelu(approximate: true)
        case .silu: return x.silu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        }
    }
}
