/// What went wrong in a tensor operation.
///
/// **Policy.** Misusing the tensor API — mismatched shapes, a bad axis, a wrong dtype, an index out
/// of range — is a programming error, like an out-of-bounds array subscript in Swift: the operation
/// stops the program with a `preconditionFailure` whose message names the operation and the shapes,
/// axes or dtypes involved (see `docs/errors.md`). Data coming from outside (files, requests) is
/// validated by the layers that read it, which throw typed errors instead. The few tensor
/// operations that depend on external state (oneDNN failing to create a primitive) also stop with a
/// message, since there is no sensible recovery inside an expression.
public struct TensorError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The operation, e.g. `"matmul"`.
    public let op: String
    /// A human-readable message naming the shapes / axes / dtypes involved.
    public let message: String

    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }
}

/// Stops with a message naming the operation when `condition` is false.
@inline(__always)
func check(_ condition: @autoclosure () -> Bool, _ op: @autoclosure () -> String,
           _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        let error = TensorError(op(), message())
        preconditionFailure(error.description, file: file, line: line)
    }
}

/// Normalises a possibly negative axis against `rank`; stops naming the op when out of range.
func normalizeAxis(_ axis: Int, rank: Int, op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    check(a >= 0 && a < rank, op, "axis \(axis) is out of range for a tensor of rank \(rank)")
    return a
}

/// Formats a shape as `[2, 3]`.
func fmt(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
