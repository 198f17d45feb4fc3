import OmniTensor

/// The only globals a checkpoint pickle may name. Anything else is refused by ``Unpickler``
/// with a ``WeightsError``; these are interpreted as data, never imported or called.
enum PickleGlobal: Equatable {
    case orderedDict
    case set, frozenset
    /// `_codecs.encode(str, "latin1")`: how protocol 2 pickles `bytes`.
    case codecsEncode
    case rebuildTensor, rebuildTensorV2, rebuildTensorV3
    case rebuildParameter, rebuildParameterWithState
    case rebuildFromTypeV2
    /// `torch.Tensor` / `torch.nn.Parameter` as the type argument of `_rebuild_from_type_v2`.
    case tensorClass
    case device
    /// `torch.FloatStorage` and friends; `torch.UntypedStorage` counts bytes as uint8.
    case storageType(TensorDecoding.Stored, name: String)
    /// `torch.float32` and friends.
    case dtype(TensorDecoding.Stored, name: String)

    private static let storages: [String: TensorDecoding.Stored] = [
        "FloatStorage": .native(.float32), "DoubleStorage": .float64, "HalfStorage": .native(.float16),
        "BFloat16Storage": .native(.bfloat16), "LongStorage": .native(.int64), "IntStorage": .native(.int32),
        "CharStorage": .native(.int8), "ByteStorage": .native(.uint8), "BoolStorage": .native(.bool),
        "UntypedStorage": .native(.uint8),
    ]
    private static let dtypes: [String: TensorDecoding.Stored] = [
        "float32": .native(.float32), "float": .native(.float32), "float64": .float64, "double": .float64,
        "float16": .native(.float16), "half": .native(.float16), "bfloat16": .native(.bfloat16),
        "int64": .native(.int64), "long": .native(.int64), "int32": .native(.int32), "int": .native(.int32),
        "int8": .native(.int8), "uint8": .native(.uint8), "bool": .native(.bool),
    ]

    /// PyTorch dtypes that exist but have no Omni dtype, named in the refusal message.
    static let unsupportedDTypes: Set<String> = [
        "int16", "short", "uint16", "uint32", "uint64", "complex32", "complex64", "complex128", "cfloat", "cdouble",
        "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "quint8", "qint8", "qint32", "quint4x2",
    ]

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("builtins", "set"), ("__builtin__", "set"): self = .set
        case ("builtins", "frozenset"), ("__builtin__", "frozenset"): self = .frozenset
        case ("_codecs", "encode"): self = .codecsEncode
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): self = .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): self = .rebuildFromTypeV2
        case ("torch", "Tensor"), ("torch._tensor", "Tensor"), ("torch.nn.parameter", "Parameter"): self = .tensorClass
        case ("torch", "device"): self = .device
        case ("torch", _), ("torch.storage", _):
            if let s = PickleGlobal.storages[name] { self = .storageType(s, name: "\(module).\(name)") }
            else if module == "torch", let d = PickleGlobal.dtypes[name] { self = .dtype(d, name: "torch.\(name)") }
            else { return nil }
        default: return nil
        }
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .set: return "builtins.set"
        case .frozenset: return "builtins.frozenset"
        case .codecsEncode: return "_codecs.encode"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildTensorV3: return "torch._utils._rebuild_tensor_v3"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .rebuildFromTypeV2: return "torch._tensor._rebuild_from_type_v2"
        case .tensorClass: return "torch.Tensor"
        case .device: return "torch.device"
        case .storageType(_, let name), .dtype(_, let name): return name
        }
    }
}
