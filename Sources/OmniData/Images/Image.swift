/// A decoded raster image: `height` rows of `width` pixels, each with `channels` interleaved
/// samples (HWC order), 8 or 16 bits per sample.
///
/// Channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. Images are values; every operation returns a
/// new image. Decoding and preprocessing follow Pillow and torchvision so that model inputs match
/// the PyTorch pipelines weights were trained with.
///
/// ```swift
/// let image = try Image(contentsOfFile: "cat.png").rgb()
/// let input = image.resized(shorterSide: 256).centerCropped(width: 224, height: 224)
///     .tensor()                                   // [3, 224, 224] in [0, 1]
///     .normalizedChannels(ImageNormalization.imageNet)
/// ```
public struct Image: Sendable, Equatable {
    /// The samples, interleaved in row-major HWC order.
    public enum Pixels: Sendable, Equatable {
        case uint8([UInt8])
        /// 16-bit samples in native order (PNG stores them big-endian; decoding swaps).
        case uint16([UInt16])
    }

    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    public let channels: Int
    /// The samples, `width * height * channels` of them.
    public let pixels: Pixels

    /// The largest `width * height` a decoder accepts: Pillow's decompression-bomb limit
    /// (2 × `Image.MAX_IMAGE_PIXELS` = 178,956,970 pixels, up to 1.4 GB for 16-bit RGBA).
    /// Headers are checked against it before any pixel memory is allocated.
    public static let maximumPixelCount = 178_956_970

    /// An 8-bit image; `pixels.count` must be `width * height * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        Image.checkLayout(width, height, channels, pixels.count, "Image.init")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = .uint8(pixels)
    }

    /// A 16-bit image; `pixels.count` must be `width * height * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt16]) {
        Image.checkLayout(width, height, channels, pixels.count, "Image.init")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = .uint16(pixels)
    }

    /// 8 or 16.
    public var bitDepth: Int {
        if case .uint8 = pixels { return 8 }
        return 16
    }

    /// Whether the last channel is alpha (2 or 4 channels).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// The 8-bit samples, or nil for a 16-bit image.
    public var samples8: [UInt8]? {
        if case .uint8(let p) = pixels { return p }
        return nil
    }

    /// The 16-bit samples, or nil for an 8-bit image.
    public var samples16: [UInt16]? {
        if case .uint16(let p) = pixels { return p }
        return nil
    }

    /// The sample at column `x`, row `y`, channel `channel`, widened to Int.
    public subscript(x x: Int, y y: Int, channel channel: Int) -> Int {
        imageCheck(x >= 0 && x < width && y >= 0 && y < height && channel >= 0 && channel < channels,
                   "Image[x:y:channel:]",
                   "(\(x), \(y), \(channel)) is outside a \(width)x\(height) image with \(channels) channels")
        let i = (y * width + x) * channels + channel
        switch pixels {
        case .uint8(let p): return Int(p[i])
        case .uint16(let p): return Int(p[i])
        }
    }

    static func checkLayout(_ width: Int, _ height: Int, _ channels: Int, _ count: Int, _ op: String) {
        imageCheck(width > 0 && height > 0, op, "width and height must be positive, got \(width)x\(height)")
        imageCheck((1...4).contains(channels), op, "channels must be 1...4, got \(channels)")
        imageCheck(count == width * height * channels, op,
                   "\(count) samples do not fill \(width)x\(height)x\(channels) (\(width * height * channels))")
    }

    /// A new image of the same depth from a per-sample builder over a fresh buffer.
    func withSameDepth(width: Int, height: Int, channels: Int,
                       _ build8: (inout [UInt8]) -> Void, _ build16: (inout [UInt16]) -> Void) -> Image {
        let n = width * height * channels
        switch pixels {
        case .uint8:
            var out = [UInt8](repeating: 0, count: n)
            build8(&out)
            return Image(width: width, height: height, channels: channels, pixels: out)
        case .uint16:
            var out = [UInt16](repeating: 0, count: n)
            build16(&out)
            return Image(width: width, height: height, channels: channels, pixels: out)
        }
    }
}

/// Stops with a message naming the operation when `condition` is false (misuse, not bad data).
@inline(__always)
func imageCheck(_ condition: @autoclosure () -> Bool, _ op: @autoclosure () -> String,
                _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        preconditionFailure("\(op()): \(message())", file: file, line: line)
    }
}
