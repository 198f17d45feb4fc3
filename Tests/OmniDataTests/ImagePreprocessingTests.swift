// Preprocessing: resampling against Pillow's Image.resize, geometry against plain references,
// ToTensor/Normalize, colour adjustments against torchvision's PIL functions, and the MobileNetV2
// input fixtures made by torchvision.
import Foundation
import Testing
@testable import OmniData
import OmniTensor

@Suite("Image preprocessing")
struct ImagePreprocessingTests {
    /// resize_<source>_<filter>_<W>x<H>.npy, written by make_fixtures.py.
    static let resizeCases: [String] = {
        var names: [String] = []
        for size in ["30x23", "17x40", "100x70", "61x20", "7x5", "200x47"] {
            for filter in ["bilinear", "bicubic", "box"] { names.append("rgb_\(filter)_\(size)") }
        }
        for source in ["rgba", "gray"] {
            for filter in ["bilinear", "bicubic"] { for size in ["30x23", "100x70"] { names.append("\(source)_\(filter)_\(size)") } }
        }
        return names
    }()

    @Test("resize matches Pillow's Image.resize (bilinear, bicubic, box; up, down, one axis)", arguments: resizeCases)
    func resizeMatchesPillow(name: String) throws {
        let parts = name.split(separator: "_")
        let source = try #require(decode(imageFixture("src_\(parts[0]).png")))
        let filter: ResamplingFilter = parts[1] == "bilinear" ? .bilinear : parts[1] == "bicubic" ? .bicubic : .box
        let size = parts[2].split(separator: "x").compactMap { Int($0) }
        let resized = source.resized(width: size[0], height: size[1], filter: filter)
        guard let reference = loadNpy(imageFixture("resize_\(name).npy")) else { return }
        // The kernels follow Pillow's fixed-point arithmetic, so the match is exact.
        expectPixels(resized, reference, tolerance: 0, "resize \(name)")
    }

    @Test("resizing chelsea.png matches Pillow bit for bit",
          arguments: ["bilinear_385x256", "bilinear_224x149", "bilinear_640x426",
                      "bicubic_385x256", "bicubic_224x149", "bicubic_640x426"])
    func resizeChelsea(name: String) throws {
        guard let path = assetPath("skimage/chelsea.png") else { return }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: imageFixture("skimage.json"))))
        let hash = try #require(((json as? [String: Any])?["chelseaResize"] as? [String: String])?[name])
        let parts = name.split(separator: "_")
        let size = parts[1].split(separator: "x").compactMap { Int($0) }
        let image = try #require(decode(path))
        let resized = image.resized(width: size[0], height: size[1], filter: parts[0] == "bicubic" ? .bicubic : .bilinear)
        #expect(fnv1a64(resized) == hash)
    }

    /// Pillow's resampling in Float64, written plainly: per output pixel, filter weights over the
    /// input pixels within the (downscale-widened) support, normalised; horizontal then vertical,
    /// rounding to integers in between. This is what the 16-bit path computes.
    func referenceResize(_ src: [Int], _ w: Int, _ h: Int, _ c: Int, _ ow: Int, _ oh: Int, bicubic: Bool) -> [Int] {
        func kernel(_ x: Double) -> Double {
            let a = -0.5, x = abs(x)
            if !bicubic { return x < 1 ? 1 - x : 0 }
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
        func weights(_ inSize: Int, _ outSize: Int) -> [(Int, [Double])] {
            let scale = Double(inSize) / Double(outSize), filterScale = max(scale, 1)
            let support = (bicubic ? 2.0 : 1.0) * filterScale
            return (0..<outSize).map { o in
                let center = (Double(o) + 0.5) * scale
                let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), inSize)
                var k = (lo..<hi).map { kernel((Double($0) - center + 0.5) * (1.0 / filterScale)) }
                let total = k.reduce(0, +)
                if total != 0 { k = k.map { $0 / total } }
                return (lo, k)
            }
        }
        func round16(_ v: Double) -> Int { min(max(Int(v >= 0 ? v + 0.5 : v - 0.5), 0), 65535) }
        var mid = [Int](repeating: 0, count: ow * h * c)
        let wx = weights(w, ow), wy = weights(h, oh)
        for y in 0..<h { for (x, (lo, k)) in wx.enumerated() { for ch in 0..<c {
            var s = 0.0
            for (i, kv) in k.enumerated() { s += Double(src[(y * w + lo + i) * c + ch]) * kv }
            mid[(y * ow + x) * c + ch] = ow == w ? src[(y * w + x) * c + ch] : round16(s)
        } } }
        var out = [Int](repeating: 0, count: ow * oh * c)
        for (y, (lo, k)) in wy.enumerated() { for x in 0..<ow { for ch in 0..<c {
            var s = 0.0
            for (i, kv) in k.enumerated() { s += Double(mid[((lo + i) * ow + x) * c + ch]) * kv }
            out[(y * ow + x) * c + ch] = oh == h ? mid[(y * ow + x) * c + ch] : round16(s)
        } } }
        return out
    }

    @Test("16-bit resize equals a Float64 reference of Pillow's filters", arguments: [UInt64(1), 2, 3])
    func resize16(seed: UInt64) throws {
        let g = Generator(seed: seed)
        let (w, h, c) = (19 + Int(seed), 13, Int(seed) + 1)
        let src = (0..<(w * h * c)).map { _ in UInt16(g.nextInt(below: 65536)) }
        let image = Image(width: w, height: h, channels: c, pixels: src)
        for (ow, oh) in [(7, 5), (40, 30), (w, 6), (9, h)] {
            for bicubic in [false, true] {
                let got = samples(image.resized(width: ow, height: oh, filter: bicubic ? .bicubic : .bilinear))
                // Alpha images are premultiplied around the resize; compare colour-only layouts plainly.
                let want = c == 2 || c == 4 ? nil : referenceResize(src.map(Int.init), w, h, c, ow, oh, bicubic: bicubic)
                if let want {
                    let worst = zip(got, want).map { abs($0.0 - $0.1) }.max() ?? 0
                    #expect(worst == 0, "\(w)x\(h)x\(c) -> \(ow)x\(oh) bicubic \(bicubic): largest difference \(worst)")
                }
                #expect(got.count == ow * oh * c)
            }
        }
        // The 8-bit path (fixed point, 8-bit intermediate) stays within a level or so of 16-bit.
        let rgb = try #require(decode(imageFixture("src_rgb.png")))
        let a = samples(rgb.resized(width: 30, height: 23, filter: .bicubic))
        let b = samples(rgb.to16Bit().resized(width: 30, height: 23, filter: .bicubic))
        let worst = zip(a, b).map { abs(Double($0.0) - Double($0.1) / 257) }.max() ?? 0
        #expect(worst <= 1.5, "8-bit and 16-bit paths differ by \(worst) levels")
    }

    @Test("shorter-side sizes follow torchvision's Resize(int) (long side truncated)")
    func shorterSide() {
        #expect(Image.shorterSideSize(width: 451, height: 300, shorterSide: 256) == (384, 256))
        #expect(Image.shorterSideSize(width: 300, height: 451, shorterSide: 256) == (256, 384))
        #expect(Image.shorterSideSize(width: 600, height: 400, shorterSide: 256) == (384, 256))
        #expect(Image.shorterSideSize(width: 7, height: 7, shorterSide: 3) == (3, 3))
        #expect(Image.shorterSideSize(width: 10, height: 3, shorterSide: 4) == (13, 4))
    }

    /// A w x h image whose samples encode their position (distinct everywhere).
    func ramp(_ w: Int, _ h: Int, _ c: Int) -> Image {
        Image(width: w, height: h, channels: c, pixels: (0..<(w * h * c)).map { UInt16($0 * 7 % 65521) })
    }

    @Test("crop, flips, transpose, rotations are exact")
    func geometry() {
        let image = ramp(5, 3, 2)
        func at(_ im: Image, _ x: Int, _ y: Int) -> [Int] { (0..<im.channels).map { im[x: x, y: y, channel: $0] } }
        let crop = image.cropped(x: 1, y: 1, width: 3, height: 2)
        for y in 0..<2 { for x in 0..<3 { #expect(at(crop, x, y) == at(image, x + 1, y + 1)) } }
        let outside = image.cropped(x: 3, y: -1, width: 4, height: 3)  // partly outside: zeros there
        for y in 0..<3 { for x in 0..<4 {
            let (sx, sy) = (x + 3, y - 1)
            let want = sx < 5 && sy >= 0 && sy < 3 ? at(image, sx, sy) : [0, 0]
            #expect(at(outside, x, y) == want)
        } }
        let h = image.flippedHorizontally(), v = image.flippedVertically(), t = image.transposed()
        let r90 = image.rotated(quarterTurns: 1), r180 = image.rotated(quarterTurns: 2), r270 = image.rotated(quarterTurns: -1)
        #expect((t.width, t.height) == (3, 5) && (r90.width, r90.height) == (3, 5))
        for y in 0..<3 { for x in 0..<5 {
            #expect(at(h, x, y) == at(image, 4 - x, y))
            #expect(at(v, x, y) == at(image, x, 2 - y))
            #expect(at(t, y, x) == at(image, x, y))
            #expect(at(r180, x, y) == at(image, 4 - x, 2 - y))
            // counter-clockwise: the top-right corner moves to the top-left
            #expect(at(r90, y, 4 - x) == at(image, x, y))
            #expect(at(r270, 2 - y, x) == at(image, x, y))
        } }
        #expect(image.flippedHorizontally().flippedHorizontally() == image)
        #expect(image.rotated(quarterTurns: 4) == image)
    }

    @Test("pad modes match torchvision / numpy.pad")
    func padding() {
        let row = Image(width: 3, height: 1, channels: 1, pixels: [UInt8]([1, 2, 3]))
        func values(_ im: Image) -> [Int] { samples(im) }
        #expect(values(row.padded(left: 2, top: 0, right: 2, bottom: 0, mode: .constant([9]))) == [9, 9, 1, 2, 3, 9, 9])
        #expect(values(row.padded(left: 2, top: 0, right: 2, bottom: 0, mode: .edge)) == [1, 1, 1, 2, 3, 3, 3])
        #expect(values(row.padded(left: 2, top: 0, right: 2, bottom: 0, mode: .reflect)) == [3, 2, 1, 2, 3, 2, 1])
        #expect(values(row.padded(left: 2, top: 0, right: 3, bottom: 0, mode: .symmetric)) == [2, 1, 1, 2, 3, 3, 2, 1])
        // 2-D, per-channel fill
        let image = ramp(4, 3, 3)
        let padded = image.padded(left: 1, top: 2, right: 0, bottom: 1, mode: .constant([10, 20, 30]))
        #expect((padded.width, padded.height) == (5, 6))
        for y in 0..<6 { for x in 0..<5 { for c in 0..<3 {
            let inside = x >= 1 && y >= 2 && y < 5
            let want = inside ? image[x: x - 1, y: y - 2, channel: c] : [10, 20, 30][c]
            #expect(padded[x: x, y: y, channel: c] == want)
        } } }
        let reflect = image.padded(left: 2, top: 1, right: 1, bottom: 2, mode: .reflect)
        func mirror(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i }
        for y in 0..<reflect.height { for x in 0..<reflect.width {
            #expect(reflect[x: x, y: y, channel: 1] == image[x: mirror(x - 2, 4), y: mirror(y - 1, 3), channel: 1])
        } }
    }

    @Test("centre crop rounds as torchvision (round half to even) and pads when too small")
    func centerCrop() {
        let image = ramp(7, 6, 1)
        // (7 - 2) / 2 = 2.5 -> 2 ; (6 - 3) / 2 = 1.5 -> 2
        #expect(image.centerCropped(width: 2, height: 3) == image.cropped(x: 2, y: 2, width: 2, height: 3))
        // (7 - 4) / 2 = 1.5 -> 2 ; (6 - 1) / 2 = 2.5 -> 2
        #expect(image.centerCropped(width: 4, height: 1) == image.cropped(x: 2, y: 2, width: 4, height: 1))
        // chelsea: 384x256 -> 224: left (384 - 224) / 2 = 80, top 16
        let big = ramp(384, 256, 1)
        #expect(big.centerCropped(width: 224, height: 224) == big.cropped(x: 80, y: 16, width: 224, height: 224))
        // Larger than the image: torchvision pads (left, top) = (dw / 2, dh / 2) with zeros.
        let small = ramp(3, 2, 1)
        let grown = small.centerCropped(width: 6, height: 5)
        #expect(grown == small.padded(left: 1, top: 1, right: 2, bottom: 2))
        let mixed = small.centerCropped(width: 5, height: 1)  // wider but shorter: pad, then crop
        #expect(mixed == small.padded(left: 1, top: 0, right: 1, bottom: 0).cropped(x: 0, y: 0, width: 5, height: 1))
    }

    @Test("tensor() is ToTensor: CHW float32, value / 255 (or / 65535)")
    func toTensor() {
        let image = Image(width: 3, height: 2, channels: 2, pixels: [UInt8]([0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 128, 9]))
        let t = image.tensor()
        #expect(t.shape == [2, 2, 3])
        let v = t.toArray()
        for c in 0..<2 { for y in 0..<2 { for x in 0..<3 {
            #expect(v[(c * 2 + y) * 3 + x] == Float(image[x: x, y: y, channel: c]) / 255)
        } } }
        let wide = Image(width: 1, height: 1, channels: 1, pixels: [UInt16]([65535])).tensor()
        #expect(wide.toArray() == [1])
        let n = t.normalizedChannels(ImageNormalization(mean: [0.5, 0.25], std: [0.5, 2]))
        let nv = n.toArray()
        for i in 0..<6 { #expect(nv[i] == (v[i] - 0.5) / 0.5) }
        for i in 6..<12 { #expect(nv[i] == (v[i] - 0.25) / 2) }
    }

    @Test("MobileNetV2 inputs: chelsea and coffee match torchvision's preprocessing", arguments: ["chelsea", "coffee"])
    func mobileNetInput(name: String) throws {
        guard let path = assetPath("skimage/\(name).png") else { return }
        guard let reference = loadNpy(fixturePath("\(name)_input.npy")) else { return }
        #expect(reference.shape == [1, 3, 224, 224])
        let image = try #require(decode(path))
        let x = image.classificationTensor()  // Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet)
        #expect(x.shape == [3, 224, 224])
        let got = x.toArray(), want = reference.floats
        var worst: Float = 0, worstAt = 0
        for i in 0..<got.count where abs(got[i] - want[i]) > worst { worst = abs(got[i] - want[i]); worstAt = i }
        print("\(name)_input.npy: max abs difference \(worst) at flat index \(worstAt)")
        #expect(worst <= 0.02, "\(name): max abs difference \(worst) at flat index \(worstAt)")
        #expect(worst <= 1e-6, "\(name): preprocessing is expected to match torchvision exactly, got \(worst)")
    }

    static let colorCases = [
        "rgb_brightness_0.6", "rgb_brightness_1.4", "rgb_contrast_0.5", "rgb_contrast_1.7",
        "rgb_saturation_0.3", "rgb_saturation_1.8", "rgb_hue_-0.3", "rgb_hue_0.12",
        "rgba_brightness_0.6", "rgba_brightness_1.4", "rgba_contrast_0.5", "rgba_contrast_1.7",
        "rgba_saturation_0.3", "rgba_saturation_1.8", "gray_contrast_0.5",
    ]

    @Test("colour adjustments match torchvision's PIL functions exactly", arguments: colorCases)
    func colorAdjustments(name: String) throws {
        let parts = name.split(separator: "_")
        let source = try #require(decode(imageFixture("src_\(parts[0]).png")))
        let factor = try #require(Double(parts[2]))
        let out: Image
        switch parts[1] {
        case "brightness": out = source.adjustingBrightness(Float(factor))
        case "contrast": out = source.adjustingContrast(Float(factor))
        case "saturation": out = source.adjustingSaturation(Float(factor))
        default: out = source.adjustingHue(factor)
        }
        guard let reference = loadNpy(imageFixture("color_\(name).npy")) else { return }
        expectPixels(out, reference, "\(name)")
    }

    @Test("neutral colour factors and hue on gray leave the image unchanged")
    func colorIdentity() throws {
        let rgb = try #require(decode(imageFixture("src_rgb.png")))
        #expect(rgb.adjustingBrightness(1) == rgb)
        #expect(rgb.adjustingContrast(1) == rgb)
        #expect(rgb.adjustingSaturation(1) == rgb)
        let gray = rgb.grayscale()
        #expect(gray.adjustingHue(0.3) == gray && gray.adjustingSaturation(0.2) == gray)
        #expect(rgb.adjustingBrightness(0) == Image(width: rgb.width, height: rgb.height, channels: 3,
                                                    pixels: [UInt8](repeating: 0, count: rgb.width * rgb.height * 3)))
    }
}
