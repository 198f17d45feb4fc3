import COmniKernels

/// Unary float32 operations implemented by the C kernels.
enum UnaryOp: Int32 {
    case neg, abs, sign, exp, log, log1p, sqrt, rsqrt, sin, cos, tanh, sigmoid, relu, leakyRelu
    case geluErf, geluTanh, silu, softplus, clamp, powScalar, affine, reciprocal, square, erf, expm1
    case geluErfGrad, geluTanhGrad, siluGrad, step, leakyReluGrad, clampMask, copy
}

enum BinaryOp: Int32 { case add, sub, mul, div, pow, max, min }

/// Element comparisons (result dtype `bool`).
public enum Comparison: Int32, Sendable { case equal, notEqual, less, lessEqual, greater, greaterEqual }

extension Tensor {
    func requireFloat32(_ op: String) {
        check(dtype == .float32, op, "needs a float32 tensor, got \(dtype) with shape \(fmt(shape)); convert with .converted(to: .float32)")
    }

    /// Strides of self broadcast to `target` (0 on broadcast axes).
    func broadcastStrides(to target: [Int]) -> [Int] {
        let lead = target.count - rank
        return (0..<target.count).map { i in
            i < lead ? 0 : (shape[i - lead] == target[i] ? strides[i - lead] : 0)
        }
    }

    /// Raw unary kernel (no autograd).
    func unaryRaw(_ op: UnaryOp, _ alpha: Float = 0, _ beta: Float = 0) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        if count == 0 { return out }
        let (sh, st) = coalesce(shape, [strides])
        sh.withUnsafeBufferPointer { s in
            st[0].withUnsafeBufferPointer { xs in
                omni_unary_f32(op.rawValue, alpha, beta, Int32(sh.count), i64(s), floatPointer, i64(xs), out.floatPointer)
            }
        }
        return out
    }

    /// Raw broadcasting binary kernel (no autograd).
    static func binaryRaw(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: String) -> Tensor {
        a.requireFloat32(name); b.requireFloat32(name)
        let shape = broadcastShape(a.shape, b.shape, op: name)
        let out = Tensor(uninitializedShape: shape)
        if out.count == 0 { return out }
        let (sh, st) = coalesce(shape, [a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
        sh.withUnsafeBufferPointer { s in
            st[0].withUnsafeBufferPointer { sa in
                st[1].withUnsafeBufferPointer { sb in
                    omni_binary_f32(op.rawValue, Int32(sh.count), i64(s), a.floatPointer, i64(sa),
                                    b.floatPointer, i64(sb), out.floatPointer)
                }
            }
        }
        return out
    }

    /// A unary op with its gradient rule `dy/dx` given as a function of (x, y).
    func unary(_ op: UnaryOp, _ name: String, alpha: Float = 0, beta: Float = 0,
               derivative: @escaping (_ x: Tensor, _ y: Tensor) -> Tensor) -> Tensor {
        requireFloat32(name)
        let y = unaryRaw(op, alpha, beta)
        let x = self.detached()
        return Tensor.record(y, op: name, inputs: [self]) { g in [g * derivative(x, y)] }
    }

    // MARK: Unary functions

    public static prefix func - (x: Tensor) -> Tensor { x.unary(.neg, "neg") { x, _ in Tensor.full(x.shape, -1) } }
    public func abs() -> Tensor { unary(.abs, "abs") { x, _ in x.unaryRaw(.sign) } }
    /// -1, 0 or 1 (gradient zero).
    public func sign() -> Tensor { unary(.sign, "sign") { x, _ in Tensor.zeros(x.shape) } }
    public func exp() -> Tensor { unary(.exp, "exp") { _, y in y } }
    public func log() -> Tensor { unary(.log, "log") { x, _ in x.unaryRaw(.reciprocal) } }
    public func log1p() -> Tensor { unary(.log1p, "log1p") { x, _ in x.unaryRaw(.affine, 1, 1).unaryRaw(.reciprocal) } }
    public func expm1() -> Tensor { unary(.expm1, "expm1") { x, _ in x.unaryRaw(.exp) } }
    public func sqrt() -> Tensor { unary(.sqrt, "sqrt") { _, y in y.unaryRaw(.reciprocal).unaryRaw(.affine, 0.5, 0) } }
    public func rsqrt() -> Tensor { unary(.rsqrt, "rsqrt") { x, y in Tensor.binaryRaw(.mul, y, x.unaryRaw(.reciprocal), name: "rsqrt").unaryRaw(.affine, -0.5, 0) } }
    public func sin() -> Tensor { unary(.sin, "sin") { x, _ in x.unaryRaw(.cos) } }
    public func cos() -> Tensor { unary(.cos, "cos") { x, _ in x.unaryRaw(.sin).unaryRaw(.neg) } }
    public func tanh() -> Tensor { unary(.tanh, "tanh") { _, y in y.unaryRaw(.square).unaryRaw(.affine, -1, 1) } }
    public func sigmoid() -> Tensor {
        unary(.sigmoid, "sigmoid") { _, y in Tensor.binaryRaw(.mul, y, y.unaryRaw(.affine, -1, 1), name: "sigmoid") }
    }
    public func relu() -> Tensor { unary(.relu, "relu") { x, _ in x.unaryRaw(.step) } }
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        unary(.leakyRelu, "leakyRelu", alpha: slope) { x, _ in x.unaryRaw(.leakyReluGrad, slope) }
    }
    /// GELU, exact (erf) form by default; `approximate: true` is the tanh form.
    public func gelu(approximate: Bool = false) -> Tensor {
        approximate ? unary(.geluTanh, "gelu") { x, _ in x.unaryRaw(.geluTanhGrad) }
                    : unary(.geluErf, "gelu") { x, _ in x.unaryRaw(.geluErfGrad) }
    }
    public func silu() -> Tensor { unary(.silu, "silu") { x, _ in x.unaryRaw(.siluGrad) } }
    /// log(1 + exp(beta·x)) / beta, linear above `threshold` (as PyTorch).
    public func softplus(beta: Float = 1, threshold: Float = 20) -> Tensor {
        unary(.softplus, "softplus", alpha: beta, beta: threshold) { x, _ in
            // d/dx = sigmoid(beta x), and 1 in the linear region
            let s = x.unaryRaw(.affine, beta, 0).unaryRaw(.sigmoid)
            let linear = x.unaryRaw(.affine, beta, -threshold).unaryRaw(.step)
            return Tensor.binaryRaw(.max, s, linear, name: "softplus")
        }
    }
    /// Clamps into [min, max] (either bound may be nil). The gradient passes where min ≤ x ≤ max.
    public func clamped(min lo: Float? = nil, max hi: Float? = nil) -> Tensor {
        let a = lo ?? -.infinity, b = hi ?? .infinity
        check(a <= b, "clamped", "min \(a) is greater than max \(b)")
        return unary(.clamp, "clamped", alpha: a, beta: b) { x, _ in x.unaryRaw(.clampMask, a, b) }
    }
    public func square() -> Tensor { unary(.square, "square") { x, _ in x.unaryRaw(.affine, 2, 0) } }
    public func reciprocal() -> Tensor { unary(.reciprocal, "reciprocal") { _, y in y.unaryRaw(.square).unaryRaw(.neg) } }
    /// The error function (gradient 2/√π·exp(-x²)).
    public func erf() -> Tensor {
        unary(.erf, "erf") { x, _ in x.unaryRaw(.square).unaryRaw(.neg).unaryRaw(.exp).unaryRaw(.affine, 1.1283791670955126, 0) }
    }
    /// x raised to a constant power. The gradient p·x^(p-1) is taken as 0 for p = 0 (as PyTorch),
    /// where it would otherwise be 0·∞ = NaN at x = 0.
    public func pow(_ exponent: Float) -> Tensor {
        unary(.powScalar, "pow", alpha: exponent) { x, _ in
            exponent == 0 ? Tensor.zeros(x.shape) : x.unaryRaw(.powScalar, exponent - 1).unaryRaw(.affine, exponent, 0)
        }
    }

    // MARK: Binary arithmetic (NumPy broadcasting)

    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ name: String,
                       rule: @escaping (_ g: Tensor, _ a: Tensor, _ b: Tensor, _ y: Tensor) -> (Tensor?, Tensor?)) -> Tensor {
        let y = binaryRaw(op, a, b, name: name)
        let ad = a.detached(), bd = b.detached()
        let aShape = a.shape, bShape = b.shape
        let needA = a.requiresGrad, needB = b.requiresGrad
        return record(y, op: name, inputs: [a, b]) { g in
            let (ga, gb) = rule(g, ad, bd, y)
            return [needA ? ga?.sum(toShape: aShape) : nil, needB ? gb?.sum(toShape: bShape) : nil]
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b, "add") { g, _, _, _ in (g, g) } }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.sub, a, b, "sub") { g, _, _, _ in (g, -g) } }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.mul, a, b, "mul") { g, a, b, _ in (g * b, g * a) } }
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary(.div, a, b, "div") { g, _, b, y in (g / b, -(g * y / b)) }
    }
    /// Elementwise power with broadcasting. The gradient to the exponent is aᵇ·log(a), defined for
    /// a > 0; as in PyTorch it is 0 where a = 0 and b ≥ 0, and the gradient to the base is 0 where
    /// b = 0 (both would otherwise be 0·∞ = NaN).
    public func pow(_ exponent: Tensor) -> Tensor {
        Tensor.binary(.pow, self, exponent, "pow") { g, a, b, y in
            let zero = Tensor(Float(0))
            let da = Tensor.where(b.compared(.equal, 0), zero, g * b * Tensor.binaryRaw(.pow, a, b - Tensor(1), name: "pow"))
            let zeroBase = a.compared(.equal, 0).logicalAnd(b.compared(.greaterEqual, 0))
            let db = Tensor.where(zeroBase, zero, g * y * a.unaryRaw(.log))
            return (da, db)
        }
    }
    /// Elementwise maximum (the gradient goes to `a` on ties).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(.max, a, b, "maximum") { g, a, b, _ in
            let m = a.compared(.greaterEqual, b).converted(to: .float32)
            return (g * m, g * (Tensor(1) - m))
        }
    }
    /// Elementwise minimum (the gradient goes to `a` on ties).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(.min, a, b, "minimum") { g, a, b, _ in
            let m = a.compared(.lessEqual, b).converted(to: .float32)
            return (g * m, g * (Tensor(1) - m))
        }
    }

    // Scalar operands
    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    // MARK: Comparisons and selection

    /// Elementwise comparison with broadcasting; the result is a `bool` tensor.
    public func compared(_ op: Comparison, _ other: Tensor) -> Tensor {
        requireFloat32("compared"); other.requireFloat32("compared")
        let shape = Tensor.broadcastShape(self.shape, other.shape, op: "compared")
        let out = Tensor(uninitializedShape: shape, dtype: .bool)
        if out.count == 0 { return out }
        let (sh, st) = coalesce(shape, [broadcastStrides(to: shape), other.broadcastStrides(to: shape)])
        sh.withUnsafeBufferPointer { s in
            st[0].withUnsafeBufferPointer { sa in
                st[1].withUnsafeBufferPointer { sb in
                    omni_compare_f32(op.rawValue, Int32(sh.count), i64(s), floatPointer, i64(sa), other.floatPointer, i64(sb),
                                     out.rawPointer.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        return out
    }

    /// Elementwise comparison with a scalar.
    public func compared(_ op: Comparison, _ value: Float) -> Tensor { compared(op, Tensor(value)) }

    /// `condition ? a : b` elementwise, with broadcasting of all three.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        check(condition.dtype == .bool, "where", "condition must be bool, got \(condition.dtype)")
        a.requireFloat32("where"); b.requireFloat32("where")
        let shape = broadcastShape(broadcastShape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let out = Tensor(uninitializedShape: shape)
        if out.count > 0 {
            let (sh, st) = coalesce(shape, [condition.broadcastStrides(to: shape), a.broadcastStrides(to: shape),
                                            b.broadcastStrides(to: shape)])
            sh.withUnsafeBufferPointer { s in
                st[0].withUnsafeBufferPointer { sc in
                    st[1].withUnsafeBufferPointer { sa in
                        st[2].withUnsafeBufferPointer { sb in
                            omni_where_f32(Int32(sh.count), i64(s), condition.rawPointer.assumingMemoryBound(to: UInt8.self),
                                           i64(sc), a.floatPointer, i64(sa), b.floatPointer, i64(sb), out.floatPointer)
                        }
                    }
                }
            }
        }
        let cond = condition.detached()
        let aShape = a.shape, bShape = b.shape
        // only the branches that need one get a gradient (masking with a constant is common, and
        // its gradient would be a full-size pass summed to a scalar)
        let needA = a.requiresGrad, needB = b.requiresGrad
        return record(out, op: "where", inputs: [a, b]) { g in
            let zero = Tensor.zeros([])
            return [needA ? Tensor.where(cond, g, zero).sum(toShape: aShape) : nil,
                    needB ? Tensor.where(cond, zero, g).sum(toShape: bShape) : nil]
        }
    }

    /// Replaces elements where `mask` is true by `value` (mask broadcasts).
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        let out = Tensor.where(mask, Tensor(value), self)
        check(out.shape == shape, "maskedFill", "mask of shape \(fmt(mask.shape)) does not broadcast to \(fmt(shape))")
        return out
    }

    /// Elementwise NOT of a bool tensor.
    public func logicalNot() -> Tensor {
        check(dtype == .bool, "logicalNot", "needs a bool tensor, got \(dtype)")
        return converted(to: .float32).compared(.equal, 0)
    }

    /// Elementwise AND of bool tensors (broadcasting).
    public func logicalAnd(_ other: Tensor) -> Tensor {
        check(dtype == .bool && other.dtype == .bool, "logicalAnd", "needs bool tensors, got \(dtype) and \(other.dtype)")
        return Tensor.binaryRaw(.min, converted(to: .float32), other.converted(to: .float32), name: "logicalAnd").compared(.notEqual, 0)
    }

    /// Elementwise OR of bool tensors (broadcasting).
    public func logicalOr(_ other: Tensor) -> Tensor {
        check(dtype == .bool && other.dtype == .bool, "logicalOr", "needs bool tensors, got \(dtype) and \(other.dtype)")
        return Tensor.binaryRaw(.max, converted(to: .float32), other.converted(to: .float32), name: "logicalOr").compared(.notEqual, 0)
    }
}
