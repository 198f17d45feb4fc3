// Rendered scenes for the built-in demo corpus: a few copies of one shape, in one colour and size,
// on a noisy background. Every attribute is known, so captions, questions and answers are exact.
import Foundation
import OmniTensor

/// The shapes the demo corpus draws.
public enum ShapeKind: String, CaseIterable, Codable, Sendable {
    case circle, square, triangle, star, cross, ring

    /// Plural used in captions ("three red circles").
    public var plural: String {
        switch self {
        case .cross: return "crosses"
        default: return rawValue + "s"
        }
    }
}

/// Colour names with the RGB they are drawn in (well separated in hue and lightness).
public enum ColorName: String, CaseIterable, Codable, Sendable {
    case red, green, blue, yellow, purple, white

    public var rgb: (Float, Float, Float) {
        switch self {
        case .red: return (0.90, 0.12, 0.12)
        case .green: return (0.15, 0.75, 0.20)
        case .blue: return (0.15, 0.30, 0.95)
        case .yellow: return (0.95, 0.88, 0.15)
        case .purple: return (0.62, 0.20, 0.80)
        case .white: return (0.97, 0.97, 0.97)
        }
    }
}

/// Object size classes (radius as a fraction of the canvas side).
public enum SizeClass: String, CaseIterable, Codable, Sendable {
    case small, large

    var radiusFraction: ClosedRange<Float> { self == .small ? 0.07...0.09 : 0.14...0.17 }
}

/// What a scene shows: `count` copies of one shape in one colour and size.
public struct SceneSpec: Codable, Sendable, Hashable {
    public var shape: ShapeKind
    public var color: ColorName
    public var size: SizeClass
    public var count: Int

    public init(shape: ShapeKind, color: ColorName, size: SizeClass, count: Int) {
        precondition((1...ShapeScene.maximumCount).contains(count), "SceneSpec: count \(count) must be 1…\(ShapeScene.maximumCount)")
        self.shape = shape; self.color = color; self.size = size; self.count = count
    }

    /// Every combination, in a fixed order.
    public static var all: [SceneSpec] {
        var out: [SceneSpec] = []
        for shape in ShapeKind.allCases { for color in ColorName.allCases { for size in SizeClass.allCases {
            for count in 1...ShapeScene.maximumCount { out.append(SceneSpec(shape: shape, color: color, size: size, count: count)) }
        } } }
        return out
    }

    /// "three small red circles", "one large white ring".
    public var caption: String {
        "\(ShapeScene.countWords[count]) \(size.rawValue) \(color.rawValue) \(count == 1 ? shape.rawValue : shape.plural)"
    }
}

/// Renders ``SceneSpec``s into RGB images with 4×4 supersampled edges.
public enum ShapeScene {
    public static let maximumCount = 4
    public static let countWords = ["zero", "one", "two", "three", "four"]

    /// Draws `spec` on a `side`×`side` canvas. Positions, exact radii, rotation, background tint and
    /// pixel noise come from `generator`; objects do not overlap.
    public static func render(_ spec: SceneSpec, side: Int = 64, generator: Generator) -> Image {
        precondition(side >= 16, "ShapeScene: side \(side) is below 16 pixels")
        let s = Float(side)
        // background: dark, slightly tinted, with a gentle gradient
        let base = (0.08 + 0.10 * uniform(generator), 0.08 + 0.10 * uniform(generator), 0.08 + 0.10 * uniform(generator))
        let gradient = 0.08 * uniform(generator)
        let radius = s * (spec.size.radiusFraction.lowerBound + (spec.size.radiusFraction.upperBound - spec.size.radiusFraction.lowerBound) * uniform(generator))
        // place centres without overlap (rejection sampling; shrink the radius if the canvas is full)
        var centres: [(Float, Float)] = []
        var r = radius
        var attempts = 0
        while centres.count < spec.count {
            let x = r + 1 + (s - 2 * r - 2) * uniform(generator), y = r + 1 + (s - 2 * r - 2) * uniform(generator)
            if centres.allSatisfy({ hypot($0.0 - x, $0.1 - y) > 2 * r + 2 }) { centres.append((x, y)) }
            attempts += 1
            if attempts > 400 { centres.removeAll(); r *= 0.9; attempts = 0 }
        }
        let rotation = spec.shape == .circle || spec.shape == .ring ? 0 : (uniform(generator) - 0.5) * 0.5
        let (cr, cg, cb) = spec.color.rgb
        let shade = 0.9 + 0.1 * uniform(generator)
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        let sub = 4
        for py in 0..<side {
            for px in 0..<side {
                var cover: Float = 0
                for sy in 0..<sub { for sx in 0..<sub {
                    let x = Float(px) + (Float(sx) + 0.5) / Float(sub), y = Float(py) + (Float(sy) + 0.5) / Float(sub)
                    for (cx, cy) in centres where abs(x - cx) <= r + 1 && abs(y - cy) <= r + 1 {
                        if contains(spec.shape, dx: x - cx, dy: y - cy, radius: r, rotation: rotation) { cover += 1; break }
                    }
                } }
                cover /= Float(sub * sub)
                let g = gradient * Float(py) / s
                let noise = (uniform(generator) - 0.5) * 0.04
                let rgb = [(base.0 + g) * (1 - cover) + cr * shade * cover + noise,
                           (base.1 + g) * (1 - cover) + cg * shade * cover + noise,
                           (base.2 + g) * (1 - cover) + cb * shade * cover + noise]
                for c in 0..<3 { pixels[(py * side + px) * 3 + c] = UInt8(max(0, min(255, (rgb[c] * 255).rounded()))) }
            }
        }
        return Image(width: side, height: side, channels: 3, pixels: pixels)
    }

    /// Whether offset (dx, dy) from a centre lies inside `shape` of the given radius.
    static func contains(_ shape: ShapeKind, dx: Float, dy: Float, radius r: Float, rotation: Float) -> Bool {
        let c = Foundation.cos(rotation), s = Foundation.sin(rotation)
        let x = c * dx + s * dy, y = -s * dx + c * dy
        switch shape {
        case .circle:
            return x * x + y * y <= r * r
        case .ring:
            let d2 = x * x + y * y
            return d2 <= r * r && d2 >= (0.55 * r) * (0.55 * r)
        case .square:
            let h = r * 0.85
            return abs(x) <= h && abs(y) <= h
        case .cross:
            let arm = r * 0.32
            return (abs(x) <= arm && abs(y) <= r) || (abs(y) <= arm && abs(x) <= r)
        case .triangle:
            // upward equilateral triangle inscribed in the circle of radius r
            let top = -r, bottom = r * 0.5
            guard y >= top && y <= bottom else { return false }
            let halfWidth = (y - top) / (bottom - top) * r * 0.866
            return abs(x) <= halfWidth
        case .star:
            // five-pointed star: inside if the radius at this angle is under the star's outline
            let angle = atan2(y, x) + Float.pi / 2
            let sector = Float.pi * 2 / 5
            var a = angle.truncatingRemainder(dividingBy: sector)
            if a < 0 { a += sector }
            let t = abs(a - sector / 2) / (sector / 2)            // 1 at a point, 0 between two points
            let outline = r * (0.45 + 0.55 * t * t)
            return (x * x + y * y).squareRoot() <= outline
        }
    }

    @inline(__always) static func uniform(_ g: Generator) -> Float { Float(g.nextDouble()) }
}
