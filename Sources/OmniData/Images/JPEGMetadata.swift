/// What Omni needs from a JPEG's marker segments before the image data: the EXIF orientation
/// (APP1 `Exif`, IFD0 tag 0x0112).
///
/// Parsing is bounded: it walks segments up to the first SOS, reads only inside each segment's
/// declared length, and treats anything malformed as "no information" (orientation 1), never as an
/// error, since the pixels can still be decoded.
struct JPEGMetadata: Sendable, Equatable {
    /// EXIF orientation 1...8 (1 when absent or invalid).
    var orientation = 1
    init(orientation: Int = 1) {
        self.orientation = orientation
    }

    /// Scans the markers of a JPEG file (bytes starting with FF D8).
    init(parsing bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return }
        var pos = 2
        var sawExif = false
        while pos + 1 < bytes.count {
            guard bytes[pos] == 0xFF else { return }
            var marker = bytes[pos + 1]
            pos += 2
            while marker == 0xFF, pos < bytes.count {  // fill bytes before the marker code
                marker = bytes[pos]
                pos += 1
            }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }  // no length
            if marker == 0xDA || marker == 0xD9 { return }  // start of scan / end of image
            guard pos + 1 < bytes.count else { return }
            let length = Int(bytes[pos]) << 8 | Int(bytes[pos + 1])
            guard length >= 2, pos + length <= bytes.count else { return }
            let body = UnsafeBufferPointer(rebasing: bytes[(pos + 2)..<(pos + length)])
            if marker == 0xE1, !sawExif, body.count >= 6,
               body[0] == 0x45, body[1] == 0x78, body[2] == 0x69, body[3] == 0x66, body[4] == 0, body[5] == 0 {
                sawExif = true
                orientation = JPEGMetadata.exifOrientation(UnsafeBufferPointer(rebasing: body[6...])) ?? 1
            }
            pos += length
        }
    }

    /// The orientation tag of IFD0 in a TIFF structure ("II*\0" or "MM\0*"), or nil.
    static func exifOrientation(_ tiff: UnsafeBufferPointer<UInt8>) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), ifd >= 8, let count = u16(ifd) else { return nil }
        for i in 0..<count {
            let entry = ifd + 2 + 12 * i
            guard let tag = u16(entry), let type = u16(entry + 2), let n = u32(entry + 4) else { return nil }
            if tag == 0x0112 {
                // SHORT (type 3), one value, stored in the first two bytes of the value field.
                guard type == 3, n == 1, let value = u16(entry + 8), (1...8).contains(value) else { return nil }
                return value
            }
        }
        return nil
    }
}
