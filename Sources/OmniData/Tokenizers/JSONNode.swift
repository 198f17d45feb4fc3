import Foundation

/// A value in a parsed JSON file with its path, so every complaint names the file and the field
/// (`tokenizer.json: model.vocab: expected an object, found an array`).
struct JSONNode {
    let value: Any
    /// Dotted path from the root, e.g. `model.merges[3]`.
    let path: String
    let file: String

    /// Parses `data`; throws naming `file` when it is not JSON.
    static func parse(_ data: Data, file: String) throws -> JSONNode {
        do {
            let value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return JSONNode(value: value, path: "", file: file)
        } catch {
            throw TokenizerError(file: file, "not valid JSON (\(error.localizedDescription))")
        }
    }

    func error(_ message: String) -> TokenizerError {
        TokenizerError(file: file, path.isEmpty ? message : "\(path): \(message)")
    }

    private func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    var isNull: Bool { value is NSNull }

    private var kind: String {
        switch value {
        case is NSNull: "null"
        case is String: "a string"
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        case let n as NSNumber: Self.isBoolean(n) ? "a boolean" : "a number"
        default: "\(Swift.type(of: value))"
        }
    }

    func object() throws -> [String: Any] {
        guard let o = value as? [String: Any] else { throw error("expected an object, found \(kind)") }
        return o
    }

    /// The field `key`, or nil when it is missing or null.
    func optional(_ key: String) throws -> JSONNode? {
        guard let v = try object()[key], !(v is NSNull) else { return nil }
        return JSONNode(value: v, path: child(key), file: file)
    }

    /// The field `key`; throws when it is missing or null.
    func required(_ key: String) throws -> JSONNode {
        guard let node = try optional(key) else { throw error("missing field \"\(key)\"") }
        return node
    }

    func string() throws -> String {
        guard let s = value as? String else { throw error("expected a string, found \(kind)") }
        return s
    }

    func int() throws -> Int {
        guard let n = value as? NSNumber, !Self.isBoolean(n),
              let i = Int(exactly: n.doubleValue) else { throw error("expected an integer, found \(kind)") }
        return i
    }

    func bool() throws -> Bool {
        guard let n = value as? NSNumber, Self.isBoolean(n) else {
            throw error("expected a boolean, found \(kind)")
        }
        return n.boolValue
    }

    func array() throws -> [JSONNode] {
        guard let a = value as? [Any] else { throw error("expected an array, found \(kind)") }
        return a.enumerated().map { JSONNode(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    /// The members of an object, in key order (JSON objects are unordered).
    func members() throws -> [(key: String, node: JSONNode)] {
        try object().sorted { $0.key < $1.key }.map { ($0.key, JSONNode(value: $0.value, path: child($0.key), file: file)) }
    }

    /// JSONSerialization gives booleans as NSNumbers whose Objective-C type is `char`.
    private static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    /// The `type` field of a component such as the normalizer.
    func type() throws -> String { try required("type").string() }

    func optionalBool(_ key: String, default value: Bool) throws -> Bool {
        try optional(key)?.bool() ?? value
    }
}
