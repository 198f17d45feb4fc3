import COmniKernels

extension Image {
    /// Three channels: gray is replicated, alpha is dropped (not composited), as Pillow's
    /// `convert("RGB")`.
    public func rgb() -> Image {
        switch channels {
        case 3: return self
        case 4: return droppingAlpha()
        default:
            // Channel 0 of a gray (+ alpha) image, three times.
            return gathering(channels: 3, from: [0, 0, 0])
        }
    }

    /// One channel of ITU-R 601-2 luma, computed as Pillow's `convert("L")`:
    /// `L = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16` (R·299/1000 + G·587/1000 + B·114/1000
    /// in 16-bit fixed point, rounded). Alpha is dropped.
    public func grayscale() -> Image {
        switch channels {
        case 1: return self
        case 2: return droppingAlpha()
        default:
            let n = width * height, c = channels
            switch pixels {
            case .uint8(let p):
                var out = [UInt8](repeating: 0, count: n)
                p.withUnsafeBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { d in
                        omni_image_luma_u8(s.baseAddress, Int64(n), Int64(c), d.baseAddress)
                    }
                }
                return Image(width: width, height: height, channels: 1, pixels: out)
            case .uint16(let p):
                let out = (0..<n).map { i -> UInt16 in
                    let r = Int(p[c * i]), g = Int(p[c * i + 1]), b = Int(p[c * i + 2])
                    return UInt16((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
                }
                return Image(width: width, height: height, channels: 1, pixels: out)
            }
        }
    }

    /// Without the alpha channel (2 → 1, 4 → 3 channels); unchanged when there is none.
    public func droppingAlpha() -> Image {
        guard hasAlpha else { return self }
        return gathering(channels: channels - 1, from: Array(0..<(channels - 1)))
    }

    /// 8-bit samples: a 16-bit sample keeps its high byte (as Pillow and libpng's `png_set_strip_16`).
    public func to8Bit() -> Image {
        guard case .uint16(let p) = pixels else { return self }
        return Image(width: width, height: height, channels: channels, pixels: p.map { UInt8($0 >> 8) })
    }

    /// 16-bit samples: an 8-bit sample v becomes v * 257 (so 255 maps to 65535).
    public func to16Bit() -> Image {
        guard case .uint8(let p) = pixels else { return self }
        return Image(width: width, height: height, channels: channels, pixels: p.map { UInt16($0) * 257 })
    }

    /// A same-depth image whose channel j is this image's channel `from[j]`.
    func gathering(channels outChannels: Int, from sourceChannels: [Int]) -> Image {
        let n = width * height, c = channels
        func run<T>(_ s: [T], _ d: inout [T]) {
            s.withUnsafeBufferPointer { s in
                d.withUnsafeMutableBufferPointer { d in
                    for i in 0..<n {
                        for (j, k) in sourceChannels.enumerated() { d[outChannels * i + j] = s[c * i + k] }
                    }
                }
            }
        }
        switch pixels {
        case .uint8(let p):
            return withSameDepth(width: width, height: height, channels: outChannels, { run(p, &$0) }, { _ in })
        case .uint16(let p):
            return withSameDepth(width: width, height: height, channels: outChannels, { _ in }, { run(p, &$0) })
        }
    }
}
