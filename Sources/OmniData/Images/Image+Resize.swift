import COmniKernels

extension Image {
    /// Resized to `width` x `height` as Pillow's `Image.resize` (and so torchvision's `Resize` on PIL
    /// images): separable filtering, horizontal pass first, antialiased when shrinking; 8-bit images
    /// use Pillow's 22-bit fixed-point weights and round to 8 bits between the passes, so results
    /// match Pillow's bit for bit. Images with alpha are resized premultiplied (Pillow's RGBa/La).
    ///
    /// 16-bit images are filtered the same way in double precision with 16-bit rounding between the
    /// passes (Pillow has no 16-bit colour resize; values are clamped to 0...65535).
    ///
    /// ```swift
    /// let small = image.resized(width: 128, height: 96, filter: .bicubic)
    /// ```
    public func resized(width outWidth: Int, height outHeight: Int, filter: ResamplingFilter = .bilinear) -> Image {
        imageCheck(outWidth > 0 && outHeight > 0, "resized", "size must be positive, got \(outWidth)x\(outHeight)")
        if outWidth == width && outHeight == height { return self }
        imageCheck(outWidth * outHeight <= Image.maximumPixelCount, "resized",
                   "\(outWidth)x\(outHeight) is above Image.maximumPixelCount (\(Image.maximumPixelCount))")
        let c = channels, premultiply = hasAlpha
        func run<T>(_ src: [T], _ depth: Int32, _ zero: T) -> [T] {
            var source = src
            var out = [T](repeating: zero, count: outWidth * outHeight * c)
            if premultiply {
                source.withUnsafeMutableBytes {
                    omni_image_premultiply(depth, 0, Int64(width * height), Int64(c), $0.baseAddress)
                }
            }
            let status = source.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { d in
                    omni_image_resample(depth, s.baseAddress, Int64(width), Int64(height), Int64(c),
                                        d.baseAddress, Int64(outWidth), Int64(outHeight), filter.code)
                }
            }
            imageCheck(status == 0, "resized", "out of memory resizing \(width)x\(height) to \(outWidth)x\(outHeight)")
            if premultiply {
                out.withUnsafeMutableBytes {
                    omni_image_premultiply(depth, 1, Int64(outWidth * outHeight), Int64(c), $0.baseAddress)
                }
            }
            return out
        }
        switch pixels {
        case .uint8(let p):
            return Image(width: outWidth, height: outHeight, channels: c, pixels: run(p, 8, UInt8(0)))
        case .uint16(let p):
            return Image(width: outWidth, height: outHeight, channels: c, pixels: run(p, 16, UInt16(0)))
        }
    }

    /// Resized so the shorter side is `shorterSide`, keeping the aspect ratio with torchvision's
    /// rounding: the longer side becomes `int(shorterSide * long / short)` (truncated), as
    /// `transforms.Resize(256)` does.
    public func resized(shorterSide: Int, filter: ResamplingFilter = .bilinear) -> Image {
        imageCheck(shorterSide > 0, "resized(shorterSide:)", "size must be positive, got \(shorterSide)")
        let (w, h) = Image.shorterSideSize(width: width, height: height, shorterSide: shorterSide)
        return resized(width: w, height: h, filter: filter)
    }

    /// The (width, height) torchvision's `Resize(shorterSide)` gives an image of this size.
    public static func shorterSideSize(width: Int, height: Int, shorterSide: Int) -> (width: Int, height: Int) {
        let short = Swift.min(width, height), long = Swift.max(width, height)
        let newLong = Int(Double(shorterSide * long) / Double(short))
        return width <= height ? (shorterSide, newLong) : (newLong, shorterSide)
    }
}
