import COmniKernels

extension Image {
    /// Brightness scaled by `factor` (0 gives black, 1 the original): Pillow's
    /// `ImageEnhance.Brightness`, as torchvision's `adjust_brightness` on PIL images. 8-bit only.
    public func adjustingBrightness(_ factor: Float) -> Image {
        blended(from: degenerate { _ in 0 }, factor: factor, op: "adjustingBrightness")
    }

    /// Contrast scaled by `factor` (0 gives flat gray at the mean luma, 1 the original): Pillow's
    /// `ImageEnhance.Contrast` (mean of the luma image, rounded half up). 8-bit only.
    public func adjustingContrast(_ factor: Float) -> Image {
        let luma = grayscale().samples8 ?? []
        let sum = luma.reduce(0) { $0 + Int($1) }
        let mean = UInt8(clamping: Int(Double(sum) / Double(Swift.max(luma.count, 1)) + 0.5))
        return blended(from: degenerate { _ in mean }, factor: factor, op: "adjustingContrast")
    }

    /// Saturation scaled by `factor` (0 gives gray, 1 the original): Pillow's `ImageEnhance.Color`
    /// (blend with the luma image). Gray images are unchanged. 8-bit only.
    public func adjustingSaturation(_ factor: Float) -> Image {
        guard channels >= 3 else { return self }
        let luma = grayscale().samples8 ?? []
        return blended(from: degenerate { luma[$0] }, factor: factor, op: "adjustingSaturation")
    }

    /// Hue rotated by `factor` turns (-0.5...0.5) as torchvision's `adjust_hue` on PIL images:
    /// Pillow's byte HSV, hue += `uint8(factor * 255)` modulo 256, back to RGB. Gray images are
    /// unchanged; alpha is kept (torchvision's PIL path would drop it). 8-bit only.
    public func adjustingHue(_ factor: Double) -> Image {
        imageCheck((-0.5...0.5).contains(factor), "adjustingHue", "factor must be in -0.5...0.5, got \(factor)")
        guard channels >= 3 else { return self }
        guard case .uint8(var p) = pixels else {
            preconditionFailure("adjustingHue: colour adjustments need an 8-bit image (use to8Bit())")
        }
        // numpy's float -> uint8 cast of factor * 255: truncation toward zero, wrapped modulo 256.
        let shift = UInt8(truncatingIfNeeded: Int(factor * 255))
        p.withUnsafeMutableBufferPointer {
            omni_image_shift_hue_u8($0.baseAddress, Int64(width * height), Int64(channels), shift)
        }
        return Image(width: width, height: height, channels: channels, pixels: p)
    }

    /// An 8-bit image whose colour samples at pixel i are `value(i)` and whose alpha is this image's.
    func degenerate(_ value: (Int) -> UInt8) -> [UInt8] {
        let n = width * height, c = channels, colour = hasAlpha ? c - 1 : c
        let source = samples8 ?? []
        var out = [UInt8](repeating: 0, count: n * c)
        for i in 0..<n {
            let v = value(i)
            for k in 0..<colour { out[i * c + k] = v }
            if hasAlpha && !source.isEmpty { out[i * c + c - 1] = source[i * c + c - 1] }
        }
        return out
    }

    /// Pillow's `Image.blend(degenerate, self, factor)`: degenerate + factor * (self - degenerate).
    func blended(from degenerate: [UInt8], factor: Float, op: String) -> Image {
        imageCheck(factor >= 0 && factor.isFinite, op, "factor must be finite and non-negative, got \(factor)")
        guard case .uint8(let p) = pixels else {
            preconditionFailure("\(op): colour adjustments need an 8-bit image (use to8Bit())")
        }
        var out = [UInt8](repeating: 0, count: p.count)
        degenerate.withUnsafeBufferPointer { a in
            p.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    omni_image_blend_u8(a.baseAddress, b.baseAddress, factor, Int64(p.count), o.baseAddress)
                }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }
}
