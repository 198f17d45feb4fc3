import CTurboJPEG

extension Image {
    /// Decodes with libjpeg-turbo's defaults (accurate integer IDCT, smooth "fancy" chroma
    /// upsampling), the same as Pillow, so pixels match Pillow's exactly.
    ///
    /// libjpeg reports damaged or missing data (a truncated file, a bad Huffman code) as warnings
    /// and still returns an image filled with gray; here those are errors. Only warnings about how
    /// the file is written (``harmlessJPEGWarnings``, e.g. extraneous bytes before a marker) are
    /// accepted. This is stricter than Pillow, which ignores all warnings and fails only on missing
    /// data. Progressive files with more than 500 scans are refused (libjpeg-turbo's guard against
    /// decompression bombs).
    static func decodeJPEG(_ data: [UInt8], name: String) throws(ImageError) -> Image {
        guard let handle = tjInitDecompress() else {
            throw ImageError(file: name, "JPEG: cannot create a decompressor")
        }
        defer { tjDestroy(handle) }
        var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let metadata = data.withUnsafeBufferPointer { JPEGMetadata(parsing: $0) }
        let headerStatus = data.withUnsafeBufferPointer { buf in
            tjDecompressHeader3(handle, buf.baseAddress, UInt(buf.count), &w, &h, &subsampling, &colorspace)
        }
        guard headerStatus == 0 else { throw jpegError(handle, name) }
        let width = Int(w), height = Int(h)
        try checkDecodedSize(width, height, name: name)

        let format: TJPF, channels: Int
        switch colorspace {
        case Int32(TJCS_GRAY.rawValue): (format, channels) = (TJPF_GRAY, 1)
        case Int32(TJCS_CMYK.rawValue), Int32(TJCS_YCCK.rawValue): (format, channels) = (TJPF_CMYK, 4)
        default: (format, channels) = (TJPF_RGB, 3)
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let flags = TJFLAG_LIMITSCANS
        let status = data.withUnsafeBufferPointer { buf in
            pixels.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, buf.baseAddress, UInt(buf.count), out.baseAddress, w, 0, h,
                              Int32(format.rawValue), flags)
            }
        }
        if status != 0 {
            // The error code stays "warning" once any warning was raised, even when a fatal error
            // follows, so the message decides: only known-harmless warnings are let through.
            let warning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
            let message = String(cString: tjGetErrorStr2(handle))
            if !(warning && Image.harmlessJPEGWarnings.contains { message.contains($0) }) {
                throw ImageError(file: name, "JPEG: \(message)")
            }
        }
        var image: Image
        if channels == 4 {
            image = Image(width: width, height: height, channels: 3,
                          pixels: cmykToRGB(pixels))
        } else {
            image = Image(width: width, height: height, channels: channels, pixels: pixels)
        }
        if metadata.orientation != 1 { image = image.applyingOrientation(metadata.orientation) }
        return image
    }

    /// libjpeg warnings about how a file is written rather than about missing or damaged pixels.
    static let harmlessJPEGWarnings = [
        "extraneous bytes before marker",  // padding after a segment, common in camera files
        "unknown JFIF revision number", "Invalid SOS parameters for sequential JPEG",
        "Inconsistent progression sequence", "Unknown Adobe color transform code", "bad ICC marker",
    ]

    static func jpegError(_ handle: tjhandle, _ name: String) -> ImageError {
        ImageError(file: name, "JPEG: \(String(cString: tjGetErrorStr2(handle)))")
    }

    /// Pillow's CMYK -> RGB: no colour management, R = (255 - K) * (1 - C/255) with its rounding.
    /// Like Pillow, the samples are taken as stored inverted (the Adobe convention most CMYK JPEGs
    /// follow), so they are inverted first.
    static func cmykToRGB(_ cmyk: [UInt8]) -> [UInt8] {
        let n = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: n * 3)
        cmyk.withUnsafeBufferPointer { s in
            rgb.withUnsafeMutableBufferPointer { d in
                for i in 0..<n {
                    let k = 255 - Int(s[4 * i + 3])
                    let nk = 255 - k
                    for c in 0..<3 {
                        let v = 255 - Int(s[4 * i + c])
                        let t = v * nk + 128
                        let m = ((t >> 8) + t) >> 8
                        d[3 * i + c] = UInt8(clamping: nk - m)
                    }
                }
            }
        }
        return rgb
    }

    /// The image encoded as baseline JPEG at `quality` 1...100 (4:2:0 chroma subsampling for colour,
    /// as Pillow's default) with the accurate integer DCT (TurboJPEG's default is the fast one;
    /// Pillow's is this), so the file decodes to the same pixels as Pillow's encode at that quality.
    /// JPEG has no alpha and no 16-bit samples: drop alpha and convert first.
    public func jpegData(quality: Int = 90) throws(ImageError) -> [UInt8] {
        imageCheck((1...100).contains(quality), "jpegData", "quality must be 1...100, got \(quality)")
        imageCheck(channels == 1 || channels == 3, "jpegData",
                   "JPEG stores gray or RGB; this image has \(channels) channels (use droppingAlpha())")
        guard case .uint8(let p) = pixels else {
            preconditionFailure("jpegData: JPEG stores 8-bit samples; this image is 16-bit (use to8Bit())")
        }
        guard let handle = tjInitCompress() else {
            throw ImageError(file: "<jpeg encoder>", "cannot create a compressor")
        }
        defer { tjDestroy(handle) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let format = channels == 1 ? TJPF_GRAY : TJPF_RGB
        let subsampling = channels == 1 ? TJSAMP_GRAY : TJSAMP_420
        let status = p.withUnsafeBufferPointer { buf in
            tjCompress2(handle, buf.baseAddress, Int32(width), 0, Int32(height), Int32(format.rawValue), &out, &size,
                        Int32(subsampling.rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        defer { if let out { tjFree(out) } }
        guard status == 0, let out else { throw ImageError(file: "<jpeg encoder>", String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }
}
