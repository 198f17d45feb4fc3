/// A size or step along the two spatial axes (height, width) of 2-D convolution and pooling.
///
/// An integer literal sets both axes, an array literal `[height, width]` sets each one, as in
/// PyTorch's `int or tuple` arguments:
///
/// ```swift
/// let y = x.conv2d(weight: w, stride: 2, padding: [1, 0])
/// let k = 3
/// let z = x.maxPool2d(kernel: IntOrPair(k))
/// ```
public struct IntOrPair: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    CustomStringConvertible {
    /// The value along the height axis.
    public var height: Int
    /// The value along the width axis.
    public var width: Int

    /// Separate values for height and width.
    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same value for both axes.
    public init(_ both: Int) { self.init(both, both) }

    /// A `(height, width)` pair.
    public init(_ pair: (Int, Int)) { self.init(pair.0, pair.1) }

    public init(integerLiteral value: Int) { self.init(value) }

    public init(arrayLiteral elements: Int...) {
        check(elements.count == 2, "IntOrPair", "needs [height, width], got \(elements.count) values \(elements)")
        self.init(elements[0], elements[1])
    }

    /// `[height, width]`.
    var pair: [Int] { [height, width] }

    public var description: String { "(\(height), \(width))" }
}
