import COmniKernels

extension Image {
    /// A new image of size `outWidth` x `outHeight` whose pixel (x, y) is the source pixel
    /// `source(x, y)`. For the non-separable maps (transpose, quarter turns), which only EXIF
    /// orientation needs.
    func remapped(width outWidth: Int, height outHeight: Int, _ source: (Int, Int) -> (Int, Int)) -> Image {
        let c = channels, w = width
        func run<T>(_ src: [T], _ dst: inout [T]) {
            src.withUnsafeBufferPointer { s in
                dst.withUnsafeMutableBufferPointer { d in
                    for y in 0..<outHeight {
                        for x in 0..<outWidth {
                            let (sx, sy) = source(x, y)
                            let o = (y * outWidth + x) * c, i = (sy * w + sx) * c
                            for k in 0..<c { d[o + k] = s[i + k] }
                        }
                    }
                }
            }
        }
        switch pixels {
        case .uint8(let p):
            return withSameDepth(width: outWidth, height: outHeight, channels: c, { run(p, &$0) }, { _ in })
        case .uint16(let p):
            return withSameDepth(width: outWidth, height: outHeight, channels: c, { _ in }, { run(p, &$0) })
        }
    }

    /// A new image whose pixel (x, y) is the source pixel (`xmap[x]`, `ymap[y]`), or `fill` where
    /// either index is negative (the C kernel copies runs of consecutive pixels as blocks).
    func separableRemap(xmap: [Int], ymap: [Int], fill: [Int] = [0]) -> Image {
        let c = channels, w = width, ow = xmap.count, oh = ymap.count
        func run<T: FixedWidthInteger>(_ src: [T], _ dst: inout [T]) {
            let fillPixel = (0..<c).map { T(clamping: fill.count == 1 ? fill[0] : fill[$0]) }
            src.withUnsafeBytes { s in
                dst.withUnsafeMutableBytes { d in
                    xmap.withUnsafeBufferPointer { xm in
                        ymap.withUnsafeBufferPointer { ym in
                            fillPixel.withUnsafeBytes { f in
                                omni_image_remap(Int64(c * MemoryLayout<T>.size), s.baseAddress, Int64(w), d.baseAddress,
                                                 Int64(ow), Int64(oh), i64(xm), i64(ym), f.baseAddress)
                            }
                        }
                    }
                }
            }
        }
        switch pixels {
        case .uint8(let p):
            return withSameDepth(width: ow, height: oh, channels: c, { run(p, &$0) }, { _ in })
        case .uint16(let p):
            return withSameDepth(width: ow, height: oh, channels: c, { _ in }, { run(p, &$0) })
        }
    }

    /// The `width` x `height` region whose top-left corner is (`x`, `y`). Parts of the region outside
    /// the image are zero, as with Pillow's `crop` and torchvision's `F.crop`.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> Image {
        imageCheck(cropWidth > 0 && cropHeight > 0, "cropped",
                   "crop size must be positive, got \(cropWidth)x\(cropHeight)")
        return separableRemap(xmap: (x..<(x + cropWidth)).map { $0 >= 0 && $0 < width ? $0 : -1 },
                              ymap: (y..<(y + cropHeight)).map { $0 >= 0 && $0 < height ? $0 : -1 })
    }

    /// The centre `width` x `height` region, with torchvision's `CenterCrop` rounding
    /// (`top = int(round((h - th) / 2))`, Python's round half to even). A crop larger than the image
    /// pads it with zeros first, as torchvision does.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> Image {
        imageCheck(cropWidth > 0 && cropHeight > 0, "centerCropped",
                   "crop size must be positive, got \(cropWidth)x\(cropHeight)")
        var image = self
        if cropWidth > width || cropHeight > height {
            let dw = Swift.max(cropWidth - width, 0), dh = Swift.max(cropHeight - height, 0)
            image = padded(left: dw / 2, top: dh / 2, right: (dw + 1) / 2, bottom: (dh + 1) / 2)
            if image.width == cropWidth && image.height == cropHeight { return image }
        }
        func half(_ d: Int) -> Int { Int((Double(d) / 2.0).rounded(.toNearestOrEven)) }
        return image.cropped(x: half(image.width - cropWidth), y: half(image.height - cropHeight),
                             width: cropWidth, height: cropHeight)
    }

    /// The image with a border of the given widths (torchvision's `Pad`).
    ///
    /// `reflect` needs each padding to be smaller than the image side it mirrors, `symmetric` at most
    /// that side.
    public func padded(left: Int, top: Int, right: Int, bottom: Int, mode: PaddingMode = .zero) -> Image {
        imageCheck(left >= 0 && top >= 0 && right >= 0 && bottom >= 0, "padded",
                   "padding must be non-negative, got left \(left) top \(top) right \(right) bottom \(bottom)")
        if case .constant(let values) = mode {
            imageCheck(values.count == 1 || values.count == channels, "padded",
                       "constant padding needs 1 or \(channels) values, got \(values.count)")
        }
        if mode == .reflect {
            imageCheck(Swift.max(left, right) < width && Swift.max(top, bottom) < height, "padded",
                       "reflect padding (\(left), \(top), \(right), \(bottom)) must be smaller than the image "
                       + "(\(width)x\(height))")
        }
        if mode == .symmetric {
            imageCheck(Swift.max(left, right) <= width && Swift.max(top, bottom) <= height, "padded",
                       "symmetric padding (\(left), \(top), \(right), \(bottom)) must not exceed the image "
                       + "(\(width)x\(height))")
        }
        func index(_ i: Int, _ n: Int) -> Int {
            if i >= 0 && i < n { return i }
            switch mode {
            case .constant: return -1
            case .edge: return i < 0 ? 0 : n - 1
            case .reflect: return i < 0 ? -i : 2 * (n - 1) - i
            case .symmetric: return i < 0 ? -i - 1 : 2 * n - 1 - i
            }
        }
        let fill: [Int]
        if case .constant(let values) = mode { fill = values } else { fill = [0] }
        return separableRemap(xmap: ((-left)..<(width + right)).map { index($0, width) },
                              ymap: ((-top)..<(height + bottom)).map { index($0, height) }, fill: fill)
    }

    /// Mirrored left to right.
    public func flippedHorizontally() -> Image {
        separableRemap(xmap: (0..<width).reversed(), ymap: Array(0..<height))
    }

    /// Mirrored top to bottom.
    public func flippedVertically() -> Image {
        separableRemap(xmap: Array(0..<width), ymap: (0..<height).reversed())
    }

    /// Rows become columns (mirrored across the main diagonal).
    public func transposed() -> Image {
        remapped(width: height, height: width) { x, y in (y, x) }
    }

    /// Rotated by a multiple of 90 degrees counter-clockwise (Pillow's `ROTATE_90` ... `ROTATE_270`).
    public func rotated(quarterTurns: Int) -> Image {
        switch ((quarterTurns % 4) + 4) % 4 {
        case 1: return remapped(width: height, height: width) { x, y in (width - 1 - y, x) }
        case 2: return separableRemap(xmap: (0..<width).reversed(), ymap: (0..<height).reversed())
        case 3: return remapped(width: height, height: width) { x, y in (y, height - 1 - x) }
        default: return self
        }
    }

    /// Turns an image stored with EXIF orientation `orientation` (1...8) upright, as Pillow's
    /// `ImageOps.exif_transpose`.
    public func applyingOrientation(_ orientation: Int) -> Image {
        switch orientation {
        case 2: return flippedHorizontally()
        case 3: return rotated(quarterTurns: 2)
        case 4: return flippedVertically()
        case 5: return transposed()
        case 6: return rotated(quarterTurns: 3)
        case 7: return transposed().rotated(quarterTurns: 2)  // Pillow's TRANSVERSE
        case 8: return rotated(quarterTurns: 1)
        default: return self
        }
    }
}

/// Reinterprets an `UnsafeBufferPointer<Int>` as the `int64_t *` the kernels take.
@inline(__always)
func i64(_ p: UnsafeBufferPointer<Int>) -> UnsafePointer<Int64> {
    UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: Int64.self)
}
