// A relevance map at image resolution, and its rendering: colour-mapped on its own or blended
// over the image it explains.
//
// Upsampling is bilinear with half-pixel centres and clamped borders (PyTorch's
// `F.interpolate(mode="bilinear", align_corners=False)`), so each patch's score sits at the centre
// of the pixels the patch covered; the result is then min–max normalised to [0, 1], so the most
// relevant spot is always the hottest colour. A map with no contrast (all scores equal) renders
// as all 0: it singles out nothing.
import OmniData

/// Relevance per pixel in [0, 1], row-major, ready to colour and blend over an image.
///
/// ```swift
/// let heatmap = Heatmap(map, width: image.width, height: image.height)
/// let overlay = heatmap.overlaid(on: image, colorMap: .ember, opacity: 0.5)
/// try overlay.write(toFile: "explain.png")
/// ```
public struct Heatmap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width × height` values in [0, 1], row-major.
    public let values: [Float]

    /// Values already in [0, 1].
    public init(width: Int, height: Int, values: [Float]) {
        precondition(width > 0 && height > 0, "Heatmap: size must be positive, got \(width)×\(height)")
        precondition(values.count == width * height, "Heatmap: \(values.count) values for \(width)×\(height) pixels")
        precondition(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "Heatmap: values must lie in [0, 1]")
        self.width = width
        self.height = height
        self.values = values
    }

    /// `map` upsampled bilinearly to `width × height` pixels and min–max normalised (see the
    /// file header). Non-finite scores count as 0.
    public init(_ map: RelevanceMap, width: Int, height: Int) {
        precondition(width > 0 && height > 0, "Heatmap: size must be positive, got \(width)×\(height)")
        let up = Heatmap.upsampled(map, width: width, height: height).map { $0.isFinite ? $0 : 0 }   // NaN/∞ count as 0
        let lo = up.min()!, hi = up.max()!
        let range = hi - lo
        let normalised = range > 0 ? up.map { Float(($0 - lo) / range) } : [Float](repeating: 0, count: up.count)
        self.init(width: width, height: height, values: normalised)
    }

    /// `map` resampled to `width × height` (not normalised): half-pixel centres, borders clamped.
    public static func upsampled(_ map: RelevanceMap, width: Int, height: Int) -> [Double] {
        let rows = taps(from: map.height, to: height), columns = taps(from: map.width, to: width)
        var out = [Double](repeating: 0, count: width * height)
        for y in 0..<height {
            let (y0, y1, fy) = rows[y]
            for x in 0..<width {
                let (x0, x1, fx) = columns[x]
                let top = map.values[y0 * map.width + x0] * (1 - fx) + map.values[y0 * map.width + x1] * fx
                let bottom = map.values[y1 * map.width + x0] * (1 - fx) + map.values[y1 * map.width + x1] * fx
                out[y * width + x] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }

    /// For each output index: the two source indices and the weight of the second.
    static func taps(from n: Int, to m: Int) -> [(Int, Int, Double)] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { i in
            let source = Swift.max((Double(i) + 0.5) * scale - 0.5, 0)
            let i0 = Swift.min(Int(source), n - 1)
            let i1 = Swift.min(i0 + 1, n - 1)
            return (i0, i1, source - Double(i0))
        }
    }

    /// The heatmap in colour: an 8-bit RGB image.
    public func colored(_ colorMap: ColorMap = .ember) -> Image {
        let table = colorMap.table
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for (i, v) in values.enumerated() {
            let k = Int((v * 255).rounded()) * 3
            pixels[3 * i] = table[k]; pixels[3 * i + 1] = table[k + 1]; pixels[3 * i + 2] = table[k + 2]
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// The colour-mapped heatmap blended over `image` (same size; made 8-bit RGB first):
    /// `round((1 − opacity) · image + opacity · colour)` per sample.
    public func overlaid(on image: Image, colorMap: ColorMap = .ember, opacity: Float = 0.5) -> Image {
        precondition(image.width == width && image.height == height,
                     "Heatmap.overlaid: image is \(image.width)×\(image.height), the heatmap \(width)×\(height)")
        precondition(opacity >= 0 && opacity <= 1, "Heatmap.overlaid: opacity \(opacity) must be in [0, 1]")
        let base = image.rgb().to8Bit().samples8!
        let colors = colored(colorMap).samples8!
        var out = [UInt8](repeating: 0, count: base.count)
        for i in out.indices {
            let v = (1 - opacity) * Float(base[i]) + opacity * Float(colors[i])
            out[i] = UInt8(Swift.min(Swift.max(v.rounded(), 0), 255))
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }
}
