import OmniData

/// A small RGB raster with the drawing operations plots need: rectangles, thick straight lines
/// and text (``BitmapFont``). Coordinates are pixels, (0, 0) at the top left, y growing down;
/// anything outside the canvas (or the clip rectangle) is skipped.
///
/// ```swift
/// var canvas = Canvas(width: 64, height: 64, background: .white)
/// canvas.drawLine(from: (4, 60), to: (60, 4), color: PlotColor.palette[0], thickness: 2)
/// let png = try canvas.image.pngData()
/// ```
public struct Canvas: Sendable, Equatable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Interleaved RGB samples, row-major.
    public private(set) var pixels: [UInt8]
    /// When set, drawing is limited to this rectangle (x, y, width, height).
    public var clip: (x: Int, y: Int, width: Int, height: Int)?

    public init(width: Int, height: Int, background: PlotColor = .white) {
        precondition(width >= 1 && height >= 1 && width <= 16384 && height <= 16384,
                     "Canvas: size \(width)×\(height) must be within 1…16384 on each side")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.red; pixels[3 * i + 1] = background.green; pixels[3 * i + 2] = background.blue
        }
    }

    public static func == (a: Canvas, b: Canvas) -> Bool { a.width == b.width && a.height == b.height && a.pixels == b.pixels }

    /// The colour at (x, y).
    public subscript(x: Int, y: Int) -> PlotColor {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "Canvas: (\(x), \(y)) is outside \(width)×\(height)")
        let i = 3 * (y * width + x)
        return PlotColor(red: pixels[i], green: pixels[i + 1], blue: pixels[i + 2])
    }

    /// Sets one pixel (skipped outside the canvas or the clip rectangle).
    public mutating func setPixel(x: Int, y: Int, color: PlotColor) {
        guard x >= 0 && x < width && y >= 0 && y < height else { return }
        if let c = clip, x < c.x || x >= c.x + c.width || y < c.y || y >= c.y + c.height { return }
        let i = 3 * (y * width + x)
        pixels[i] = color.red; pixels[i + 1] = color.green; pixels[i + 2] = color.blue
    }

    /// Fills the rectangle with top-left (x, y).
    public mutating func fillRectangle(x: Int, y: Int, width w: Int, height h: Int, color: PlotColor) {
        let (x0, x1) = (Swift.max(0, x), Swift.min(width, x + w)), (y0, y1) = (Swift.max(0, y), Swift.min(height, y + h))
        guard w > 0 && h > 0 && x0 < x1 && y0 < y1 else { return }
        for yy in y0..<y1 { for xx in x0..<x1 { setPixel(x: xx, y: yy, color: color) } }
    }

    /// Outlines the rectangle with top-left (x, y) with 1-pixel lines.
    public mutating func strokeRectangle(x: Int, y: Int, width w: Int, height h: Int, color: PlotColor) {
        guard w > 0 && h > 0 else { return }
        fillRectangle(x: x, y: y, width: w, height: 1, color: color)
        fillRectangle(x: x, y: y + h - 1, width: w, height: 1, color: color)
        fillRectangle(x: x, y: y, width: 1, height: h, color: color)
        fillRectangle(x: x + w - 1, y: y, width: 1, height: h, color: color)
    }

    /// A straight line between two pixel centres (Bresenham), each point stamped with a square
    /// brush of `thickness` pixels whose top-left is offset by −(thickness − 1)/2, so thickness 1
    /// is exactly the Bresenham line and the end points are always covered.
    public mutating func drawLine(from a: (x: Int, y: Int), to b: (x: Int, y: Int), color: PlotColor, thickness: Int = 1) {
        precondition(thickness >= 1, "Canvas.drawLine: thickness must be at least 1, got \(thickness)")
        // Lines far outside the canvas (e.g. an outlier point) would take long to walk; clip the
        // walk to a generous box around the canvas, which keeps it O(canvas size).
        let limit = 4 * Swift.max(width, height)
        guard Swift.max(abs(a.x), abs(a.y), abs(b.x), abs(b.y)) <= limit else {
            if let clipped = Canvas.clipSegment(a, b, within: -limit...limit) { drawLine(from: clipped.0, to: clipped.1, color: color, thickness: thickness) }
            return
        }
        let offset = (thickness - 1) / 2
        var x = a.x, y = a.y
        let dx = abs(b.x - a.x), dy = -abs(b.y - a.y)
        let sx = a.x < b.x ? 1 : -1, sy = a.y < b.y ? 1 : -1
        var error = dx + dy
        while true {
            if thickness == 1 { setPixel(x: x, y: y, color: color) }
            else { fillRectangle(x: x - offset, y: y - offset, width: thickness, height: thickness, color: color) }
            if x == b.x && y == b.y { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    /// The part of segment a–b inside the square `range`² (Liang–Barsky), rounded to pixels.
    static func clipSegment(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), within range: ClosedRange<Int>) -> ((x: Int, y: Int), (x: Int, y: Int))? {
        let x0 = Double(a.x), y0 = Double(a.y), dx = Double(b.x - a.x), dy = Double(b.y - a.y)
        var t0 = 0.0, t1 = 1.0
        let lo = Double(range.lowerBound), hi = Double(range.upperBound)
        for (p, q) in [(-dx, x0 - lo), (dx, hi - x0), (-dy, y0 - lo), (dy, hi - y0)] {
            if p == 0 { if q < 0 { return nil }; continue }
            let r = q / p
            if p < 0 { t0 = Swift.max(t0, r) } else { t1 = Swift.min(t1, r) }
            if t0 > t1 { return nil }
        }
        func point(_ t: Double) -> (x: Int, y: Int) { (Int((x0 + t * dx).rounded()), Int((y0 + t * dy).rounded())) }
        return (point(t0), point(t1))
    }

    /// The canvas as an 8-bit RGB ``OmniData/Image`` (encode it with `pngData()`).
    public var image: Image { Image(width: width, height: height, channels: 3, pixels: pixels) }
}
