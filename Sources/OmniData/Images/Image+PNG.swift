import COmniImage

extension Image {
    static func decodePNG(_ data: [UInt8], name: String) throws(ImageError) -> Image {
        let errLength = 256
        var err = [CChar](repeating: 0, count: errLength)
        var info = omni_png_info()
        let status = data.withUnsafeBufferPointer { buf in
            omni_png_read_info(buf.baseAddress, buf.count, &info, &err, errLength)
        }
        guard status == 0 else { throw ImageError(file: name, "PNG: \(cString(err))") }
        let width = Int(info.width), height = Int(info.height), channels = Int(info.channels)
        try checkDecodedSize(width, height, name: name)
        guard (1...4).contains(channels), info.bit_depth == 8 || info.bit_depth == 16 else {
            throw ImageError(file: name, "PNG: unsupported layout (\(channels) channels, \(info.bit_depth) bits)")
        }
        let count = width * height * channels
        var status2: Int32 = 0
        let image: Image
        if info.bit_depth == 8 {
            var pixels = [UInt8](repeating: 0, count: count)
            data.withUnsafeBufferPointer { buf in
                pixels.withUnsafeMutableBytes { out in
                    status2 = omni_png_decode(buf.baseAddress, buf.count, &info, out.baseAddress, out.count,
                                              &err, errLength)
                }
            }
            image = Image(width: width, height: height, channels: channels, pixels: pixels)
        } else {
            var pixels = [UInt16](repeating: 0, count: count)
            data.withUnsafeBufferPointer { buf in
                pixels.withUnsafeMutableBytes { out in
                    status2 = omni_png_decode(buf.baseAddress, buf.count, &info, out.baseAddress, out.count,
                                              &err, errLength)
                }
            }
            image = Image(width: width, height: height, channels: channels, pixels: pixels)
        }
        guard status2 == 0 else { throw ImageError(file: name, "PNG: \(cString(err))") }
        return image
    }

    /// The image encoded as PNG (8- or 16-bit, as the image; not interlaced).
    ///
    /// `compressionLevel` is zlib's 0 (none) ... 9 (smallest).
    public func pngData(compressionLevel: Int = 6) throws(ImageError) -> [UInt8] {
        imageCheck((0...9).contains(compressionLevel), "pngData", "compressionLevel must be 0...9, got \(compressionLevel)")
        let errLength = 256
        var err = [CChar](repeating: 0, count: errLength)
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status: Int32
        switch pixels {
        case .uint8(let p):
            status = p.withUnsafeBytes { b in
                omni_png_encode(b.baseAddress, UInt32(width), UInt32(height), Int32(channels), 8,
                                Int32(compressionLevel), &out, &size, &err, errLength)
            }
        case .uint16(let p):
            status = p.withUnsafeBytes { b in
                omni_png_encode(b.baseAddress, UInt32(width), UInt32(height), Int32(channels), 16,
                                Int32(compressionLevel), &out, &size, &err, errLength)
            }
        }
        defer { omni_png_free(out) }
        guard status == 0, let out else { throw ImageError(file: "<png encoder>", cString(err)) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }
}
