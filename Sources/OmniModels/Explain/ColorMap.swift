// Colour maps for heatmaps: 256-entry lookup tables from 0 (cold) to 1 (hot).
//
// `ember` is a perceptual, inferno-like map written for Omni (not matplotlib's table): five anchor
// colours — near black, deep purple, crimson, orange, pale yellow — interpolated in OKLab
// (Ottosson 2020, https://bottosson.github.io/posts/oklab/), so lightness rises steadily from
// cold to hot and the map reads correctly in grayscale print and for colour-blind readers.
import Foundation

/// A colour map: a relevance in [0, 1] → an 8-bit sRGB colour.
///
/// ```swift
/// let hot = ColorMap.ember.color(1)        // (252, 255, 164), pale yellow
/// let cold = ColorMap.ember.color(0)       // (0, 0, 4), near black
/// ```
public enum ColorMap: String, Sendable, Codable, CaseIterable {
    /// Near black → purple → crimson → orange → pale yellow, interpolated in OKLab.
    case ember
    /// Black → white.
    case grayscale

    /// The colour of `value`, clamped to [0, 1] and quantised to the table's 256 entries
    /// (entry `round(value · 255)`). NaN maps to 0.
    public func color(_ value: Float) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let v = value.isNaN ? 0 : Swift.min(Swift.max(value, 0), 1)
        let i = Int((v * 255).rounded()) * 3
        let t = table
        return (t[i], t[i + 1], t[i + 2])
    }

    /// 256 RGB triples, interleaved: entry k is `table[3k ..< 3k + 3]`.
    public var table: [UInt8] {
        switch self {
        case .ember: return ColorMap.emberTable
        case .grayscale: return ColorMap.grayTable
        }
    }

    /// The anchors of ``ember`` (sRGB, 0–255) at 0, ¼, ½, ¾ and 1.
    static let emberAnchors: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164),
    ]

    static let emberTable: [UInt8] = {
        let anchors = emberAnchors.map { oklab(fromSRGB: $0) }
        var out: [UInt8] = []
        out.reserveCapacity(256 * 3)
        for k in 0..<256 {
            let x = Double(k) / 255 * Double(anchors.count - 1)
            let i = Swift.min(Int(x), anchors.count - 2)
            let t = x - Double(i)
            let (a, b) = (anchors[i], anchors[i + 1])
            let lab = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
            let rgb = sRGB(fromOKLab: lab)
            out += [rgb.0, rgb.1, rgb.2]
        }
        return out
    }()

    static let grayTable: [UInt8] = (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }

    // MARK: OKLab

    /// sRGB transfer function: an 8-bit sample → linear light in [0, 1].
    static func linear(_ c: UInt8) -> Double {
        let x = Double(c) / 255
        return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4)
    }

    /// Linear light → an 8-bit sRGB sample (clamped, rounded).
    static func encoded(_ x: Double) -> UInt8 {
        let v = Swift.min(Swift.max(x, 0), 1)
        let s = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055
        return UInt8((s * 255).rounded())
    }

    /// (L, a, b) of an sRGB colour.
    static func oklab(fromSRGB c: (UInt8, UInt8, UInt8)) -> (Double, Double, Double) {
        let (r, g, b) = (linear(c.0), linear(c.1), linear(c.2))
        let l = cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b)
        let m = cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b)
        let s = cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
        return (0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
                1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
                0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s)
    }

    /// The sRGB colour of (L, a, b), clamped to the gamut.
    static func sRGB(fromOKLab c: (Double, Double, Double)) -> (UInt8, UInt8, UInt8) {
        let l = c.0 + 0.3963377774 * c.1 + 0.2158037573 * c.2
        let m = c.0 - 0.1055613458 * c.1 - 0.0638541728 * c.2
        let s = c.0 - 0.0894841775 * c.1 - 1.2914855480 * c.2
        let (l3, m3, s3) = (l * l * l, m * m * m, s * s * s)
        return (encoded(4.0767416621 * l3 - 3.3077115913 * m3 + 0.2309699292 * s3),
                encoded(-1.2684380046 * l3 + 2.6097574011 * m3 - 0.3413193965 * s3),
                encoded(-0.0041960863 * l3 - 0.7034186147 * m3 + 1.7076147010 * s3))
    }
}
