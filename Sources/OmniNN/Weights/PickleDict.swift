/// A mutable, insertion-ordered pickle dict (shared between the stack and the memo).
final class PickleDict {
    private(set) var items: [(key: PickleValue, value: PickleValue)] = []
    private var index: [String: Int] = [:]

    /// Sets `key`; string and integer keys replace an earlier equal key, as in Python.
    func set(_ key: PickleValue, _ value: PickleValue) {
        let hashKey: String?
        switch key {
        case .string(let s): hashKey = "s" + s
        case .int(let i): hashKey = "i\(i)"
        case .bool(let b): hashKey = "i\(b ? 1 : 0)"
        default: hashKey = nil
        }
        if let hashKey, let i = index[hashKey] {
            items[i].value = value
            return
        }
        if let hashKey { index[hashKey] = items.count }
        items.append((key, value))
    }

    func value(forKey key: String) -> PickleValue? { index["s" + key].map { items[$0].value } }

    func removeAll() {
        items.removeAll()
        index.removeAll()
    }
}
