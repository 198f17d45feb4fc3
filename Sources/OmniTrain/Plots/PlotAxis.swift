import Foundation

/// One axis of a plot: its range, its ticks and how values map onto it.
///
/// Linear axes get "nice" ticks — steps of 1, 2 or 5 × 10ᵏ, about five intervals — and the range
/// is widened to whole steps. Logarithmic axes (positive values only) span whole decades with a
/// tick at each power of ten (every k-th when there are many).
public struct PlotAxis: Sendable, Equatable {
    /// The value at the start of the axis.
    public let lower: Double
    /// The value at the end of the axis.
    public let upper: Double
    /// Tick values, ascending, within [lower, upper].
    public let ticks: [Double]
    /// Whether values map through log₁₀.
    public let isLogarithmic: Bool
    /// The linear tick step (for label precision); for a log axis, the ratio between ticks.
    public let step: Double

    /// A linear axis covering `values` (non-finite ones ignored; [0, 1] with none).
    public static func linear(covering values: [Double], targetIntervals: Int = 5) -> PlotAxis {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if lo == hi {
            let pad = lo == 0 ? 1 : Swift.abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        let raw = (hi - lo) / Double(Swift.max(1, targetIntervals))
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let normalized = raw / magnitude
        let step = (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude
        let first = Foundation.floor(lo / step), last = Foundation.ceil(hi / step)
        // Values near ±Double.greatestFiniteMagnitude overflow the arithmetic: show the bare range.
        guard step.isFinite, step > 0, (last - first).isFinite, last - first <= 100 else {
            return PlotAxis(lower: lo, upper: hi, ticks: [lo, hi], isLogarithmic: false, step: hi - lo)
        }
        let lower = first * step, upper = last * step
        let ticks = (0...Int(last - first)).map { i -> Double in
            let v = (first + Double(i)) * step
            return Swift.abs(v) < step * 1e-9 ? 0 : v
        }
        return PlotAxis(lower: lower, upper: upper, ticks: ticks, isLogarithmic: false, step: step)
    }

    /// A log₁₀ axis covering the positive finite `values` ([1, 10] with none).
    public static func logarithmic(covering values: [Double], maximumTicks: Int = 8) -> PlotAxis {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        var lo = Foundation.floor(Foundation.log10(positive.min() ?? 1))
        var hi = Foundation.ceil(Foundation.log10(positive.max() ?? 10))
        if lo == hi { hi += 1 }
        lo = Swift.max(lo, -300); hi = Swift.min(hi, 300)
        let decades = Int(hi - lo)
        let every = Swift.max(1, (decades + maximumTicks - 1) / maximumTicks)
        let ticks = stride(from: 0, through: decades, by: every).map { Foundation.pow(10, lo + Double($0)) }
        return PlotAxis(lower: Foundation.pow(10, lo), upper: Foundation.pow(10, hi), ticks: ticks, isLogarithmic: true,
                        step: Foundation.pow(10, Double(every)))
    }

    /// Where `value` lies along the axis: 0 at ``lower``, 1 at ``upper`` (nil for a value a log
    /// axis cannot show, or a non-finite one).
    public func fraction(of value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if isLogarithmic {
            guard value > 0 else { return nil }
            return (Foundation.log10(value) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
        return (value - lower) / (upper - lower)
    }

    /// The label of a tick: plain decimals with as many places as the step needs, or `2.5e-4`
    /// style for very large or very small magnitudes.
    public func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = Swift.abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 {
            let exponent = Int(Foundation.floor(Foundation.log10(magnitude)))
            var mantissa = String(format: "%.2f", value / Foundation.pow(10, Double(exponent)))
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
            return "\(mantissa)e\(exponent)"
        }
        let reference = isLogarithmic ? magnitude : step
        let digits = Foundation.floor(Foundation.log10(reference) + 1e-9)
        let places = digits.isFinite ? Swift.max(0, Swift.min(6, -Int(digits))) : 0
        let text = String(format: "%.\(places)f", value)
        return text == "-0" ? "0" : text
    }
}
