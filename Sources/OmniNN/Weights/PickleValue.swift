/// A value produced by ``Unpickler``: plain data, containers, allow-listed globals, and the
/// PyTorch storages and tensors that a checkpoint's pickle describes (never live objects).
///
/// Containers (tuples, lists, dicts) are reference types owned by a ``PickleArena``, so a value
/// is never more than one level deep: a hostile pickle nesting a million tuples cannot make
/// destruction recurse, and shared (memoised) containers can be recognised by identity.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`, as little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// A tuple (immutable by convention).
    case tuple(PickleList)
    /// Lists, sets and frozensets; a reference so that memoised aliases see later appends.
    case list(PickleList)
    /// Dicts and OrderedDicts; a reference for the same reason.
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(TorchStorageRef)
    case tensor(TorchTensorSpec)

    /// A short name of the kind of value, for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return g.qualifiedName
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    var intValue: Int? {
        if case .int(let v) = self { return v }
        if case .bool(let b) = self { return b ? 1 : 0 }
        return nil
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The items of a tuple or list.
    var sequence: [PickleValue]? {
        switch self {
        case .tuple(let t): return t.items
        case .list(let l): return l.items
        default: return nil
        }
    }
}
