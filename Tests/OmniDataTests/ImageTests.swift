// Decoding and encoding: every PNG layout and JPEG kind against Pillow's decode (fixtures made by
// Fixtures/images/make_fixtures.py), the scikit-image sample files, EXIF orientation, round trips.
import Foundation
import Testing
@testable import OmniData

@Suite("Image codecs")
struct ImageCodecTests {
    static let pngCases: [(file: String, channels: Int, depth: Int)] = [
        ("png_l8", 1, 8), ("png_la8", 2, 8), ("png_rgb8", 3, 8), ("png_rgba8", 4, 8),
        ("png_l16", 1, 16), ("png_la16", 2, 16), ("png_rgb16", 3, 16), ("png_rgba16", 4, 16),
        ("png_rgba16_interlaced", 4, 16), ("png_rgb8_interlaced", 3, 8),
        ("png_gray1", 1, 8), ("png_gray2", 1, 8), ("png_gray4", 1, 8),
        ("png_palette4", 3, 8), ("png_palette4_trns", 4, 8), ("png_p8", 3, 8),
    ]

    @Test("PNG layouts decode to the reference samples exactly", arguments: pngCases.map(\.file))
    func pngLayouts(file: String) throws {
        let expected = Self.pngCases.first { $0.file == file }!
        let image = try #require(decode(imageFixture(file + ".png")))
        #expect(image.channels == expected.channels && image.bitDepth == expected.depth,
                "\(file): \(image.channels) channels, \(image.bitDepth) bits")
        guard let reference = loadNpy(imageFixture(file + ".npy")) else { return }
        expectPixels(image, reference, file)
    }

    static let jpegCases = ["jpeg_gray", "jpeg_444", "jpeg_422", "jpeg_420", "jpeg_progressive", "jpeg_cmyk"]

    @Test("JPEG kinds decode to Pillow's pixels exactly (CMYK converted as Pillow)", arguments: jpegCases)
    func jpegKinds(file: String) throws {
        let image = try #require(decode(imageFixture(file + ".jpg")))
        #expect(image.channels == (file == "jpeg_gray" ? 1 : 3) && image.bitDepth == 8)
        guard let reference = loadNpy(imageFixture(file + ".npy")) else { return }
        expectPixels(image, reference, file)
    }

    @Test("EXIF orientations 1...8 are applied as ImageOps.exif_transpose", arguments: 1...8)
    func exifOrientation(orientation: Int) throws {
        let path = imageFixture("jpeg_orientation_\(orientation).jpg")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let parsed = bytes.withUnsafeBufferPointer { JPEGMetadata(parsing: $0) }
        #expect(parsed.orientation == orientation)
        let image = try #require(decode(path))
        // The stored image is 7 wide, 5 high; orientations 5...8 swap the sides.
        #expect(orientation >= 5 ? (image.width, image.height) == (5, 7) : (image.width, image.height) == (7, 5))
        guard let reference = loadNpy(imageFixture("jpeg_orientation_\(orientation).npy")) else { return }
        expectPixels(image, reference, "orientation \(orientation)")
    }

    @Test("EXIF parsing is bounded and ignores malformed IFDs")
    func exifMalformed() {
        func orientation(_ tiff: [UInt8]) -> Int? { tiff.withUnsafeBufferPointer { JPEGMetadata.exifOrientation($0) } }
        // Big-endian, one entry: tag 0x0112, SHORT, count 1, value 6.
        let good: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]
        #expect(orientation(good) == 6)
        #expect(orientation(Array(good.prefix(19))) == nil)  // entry cut short
        var badOffset = good
        badOffset[7] = 200  // IFD beyond the data
        #expect(orientation(badOffset) == nil)
        var hugeCount = good
        hugeCount[8] = 0xFF; hugeCount[9] = 0xFF  // 65535 entries claimed, 1 present
        #expect(orientation(hugeCount) == 6)
        var badValue = good
        badValue[19] = 9
        #expect(orientation(badValue) == nil)
        var badType = good
        badType[13] = 4  // LONG
        #expect(orientation(badType) == nil)
        #expect(orientation([0x49, 0x49, 42, 0]) == nil)
        // A JPEG whose APP1 length runs past the end: no orientation, no crash.
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xF0, 0x45, 0x78, 0x69, 0x66, 0, 0]
        #expect(jpeg.withUnsafeBufferPointer { JPEGMetadata(parsing: $0) }.orientation == 1)
    }

    @Test("scikit-image sample files decode to Pillow's pixels (hash of the full buffer)",
          arguments: ["chelsea.png", "coffee.png", "astronaut.png", "camera.png", "horse.png",
                      "rocket.jpg", "retina.jpg", "hubble_deep_field.jpg"])
    func scikitImageSamples(file: String) throws {
        guard let path = assetPath("skimage/\(file)") else { return }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: imageFixture("skimage.json"))))
        let entry = try #require(((json as? [String: Any])?["decode"] as? [String: Any])?[file] as? [String: Any])
        let image = try #require(decode(path))
        let shape = try #require(entry["shape"] as? [Int])
        #expect([image.height, image.width, image.channels] == shape)
        let all = samples(image)
        let row0 = try #require(entry["row0"] as? [Int]), rowMid = try #require(entry["rowMid"] as? [Int])
        let rowBytes = image.width * image.channels
        #expect(Array(all.prefix(row0.count)) == row0, "\(file): first row differs")
        let mid = (image.height / 2) * rowBytes
        #expect(Array(all[mid..<(mid + rowMid.count)]) == rowMid, "\(file): middle row differs")
        #expect(fnv1a64(image) == entry["fnv1a64"] as? String, "\(file): pixel buffer hash differs from Pillow's")
    }

    @Test("PNG round trip is lossless for every layout", arguments: pngCases.map(\.file))
    func pngRoundTrip(file: String) throws {
        let image = try #require(decode(imageFixture(file + ".png")))
        let again = try Image(data: image.pngData(), name: "round trip")
        #expect(again == image)
    }

    @Test("JPEG encode: decodes to the pixels of Pillow's encode at the same quality; quality trades size for error")
    func jpegEncode() throws {
        let source = try #require(decode(imageFixture("src_rgb.png")))
        for quality in [50, 90] {
            let back = try Image(data: source.jpegData(quality: quality), name: "q\(quality)")
            guard let reference = loadNpy(imageFixture("jpeg_encoded_rgb_q\(quality).npy")) else { return }
            expectPixels(back, reference, "quality \(quality)")
        }
        let gray = try #require(decode(imageFixture("src_gray.png")))
        let grayBack = try Image(data: gray.jpegData(quality: 90), name: "gray")
        if let reference = loadNpy(imageFixture("jpeg_encoded_gray_q90.npy")) { expectPixels(grayBack, reference, "gray") }
        var previousSize = 0, previousError = Int.max
        for quality in [30, 75, 95] {
            let bytes = try source.jpegData(quality: quality)
            let back = try Image(data: bytes, name: "q\(quality)")
            let error = zip(samples(source), samples(back)).reduce(0) { $0 + abs($1.0 - $1.1) }
            #expect(bytes.count > previousSize, "quality \(quality): \(bytes.count) bytes")
            #expect(error < previousError, "quality \(quality): total abs error \(error)")
            (previousSize, previousError) = (bytes.count, error)
        }
    }

    @Test("write(toFile:) picks the format from the extension and writes atomically")
    func writeFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-img-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try #require(decode(imageFixture("png_rgba16.png")))
        let png = dir.appendingPathComponent("a.png").path
        try image.write(toFile: png)
        #expect(try Image(contentsOfFile: png) == image)
        let jpg = dir.appendingPathComponent("b.jpeg").path
        try image.droppingAlpha().to8Bit().write(toFile: jpg, jpegQuality: 80)
        #expect(try Image(contentsOfFile: jpg).channels == 3)
        #expect(throws: ImageError.self) { try image.write(toFile: dir.appendingPathComponent("c.gif").path) }
    }

    @Test("conversions: RGB, gray (Pillow's L), drop alpha, bit depth")
    func conversions() throws {
        let rgb = try #require(decode(imageFixture("src_rgb.png")))
        guard let gray = loadNpy(imageFixture("gray_src_rgb.npy")) else { return }
        expectPixels(rgb.grayscale(), gray, "convert(\"L\")")
        let rgba = try #require(decode(imageFixture("png_rgba8.png")))
        let dropped = rgba.droppingAlpha()
        #expect(dropped.channels == 3)
        for y in 0..<rgba.height { for x in 0..<rgba.width { for c in 0..<3 {
            #expect(dropped[x: x, y: y, channel: c] == rgba[x: x, y: y, channel: c])
        } } }
        #expect(rgba.rgb() == dropped)
        let la = try #require(decode(imageFixture("png_la8.png")))
        let laRGB = la.rgb()
        #expect(laRGB.channels == 3)
        #expect((0..<3).allSatisfy { laRGB[x: 4, y: 3, channel: $0] == la[x: 4, y: 3, channel: 0] })
        #expect(la.grayscale() == la.droppingAlpha())
        let sixteen = try #require(decode(imageFixture("png_rgb16.png")))
        let eight = sixteen.to8Bit()
        #expect(eight.bitDepth == 8 && eight[x: 5, y: 2, channel: 1] == sixteen[x: 5, y: 2, channel: 1] >> 8)
        #expect(eight.to16Bit()[x: 0, y: 0, channel: 0] == eight[x: 0, y: 0, channel: 0] * 257)
        // 16-bit luma uses the same fixed-point weights.
        let g16 = sixteen.grayscale()
        let (r, g, b) = (sixteen[x: 3, y: 4, channel: 0], sixteen[x: 3, y: 4, channel: 1], sixteen[x: 3, y: 4, channel: 2])
        #expect(g16[x: 3, y: 4, channel: 0] == (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
    }
}
