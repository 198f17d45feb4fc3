// Augmentation: noise statistics, random resized crop (torchvision's algorithm, determinism per
// seed, fallback), random flip, colour jitter.
import Foundation
import Testing
@testable import OmniData
import OmniTensor

@Suite("Image augmentation")
struct ImageAugmentationTests {
    @Test("Gaussian noise: zero mean, the requested std, independent of the input, reproducible per seed",
          arguments: [UInt64(1), 2, 3])
    func gaussianNoise(seed: UInt64) {
        let x = Tensor.uniform([3, 64, 64], low: -2, high: 2, generator: Generator(seed: seed + 100))
        for std: Float in [0.1, 0.5] {
            let noisy = GaussianNoise(std: std).apply(to: x, generator: Generator(seed: seed))
            let d = zip(noisy.toArray(), x.toArray()).map { Double($0.0) - Double($0.1) }
            let n = Double(d.count)
            let mean = d.reduce(0, +) / n
            let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
            // 12288 draws: the mean's standard error is std / 111, the std's about std / 157.
            #expect(abs(mean) < 4 * Double(std) / 110, "std \(std): mean \(mean)")
            #expect(abs(sd - Double(std)) < 4 * Double(std) / 150, "std \(std): sample std \(sd)")
            let within1 = Double(d.filter { abs($0) < Double(std) }.count) / n
            #expect(abs(within1 - 0.6827) < 0.02, "std \(std): \(within1) of the noise within one std")
            let again = GaussianNoise(std: std).apply(to: x, generator: Generator(seed: seed))
            #expect(again.toArray() == noisy.toArray())
        }
        #expect(GaussianNoise().std == 0.1)
        #expect(GaussianNoise(std: 0).apply(to: x, generator: Generator(seed: 1)).toArray() == x.toArray())
    }

    /// torchvision's get_params written plainly, drawing from the same generator in the same order.
    func referenceRegion(_ w: Int, _ h: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                         _ g: Generator) -> (Int, Int, Int, Int) {
        let area = Double(w * h)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * g.nextDouble())
            let logR = (log(ratio.lowerBound), log(ratio.upperBound))
            let aspect = exp(logR.0 + (logR.1 - logR.0) * g.nextDouble())
            let cw = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let ch = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if 0 < cw && cw <= w && 0 < ch && ch <= h {
                let top = g.nextInt(below: h - ch + 1)
                let left = g.nextInt(below: w - cw + 1)
                return (left, top, cw, ch)
            }
        }
        let r = Double(w) / Double(h)
        if r < ratio.lowerBound { let ch = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven)); return (0, (h - ch) / 2, w, ch) }
        if r > ratio.upperBound { let cw = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven)); return ((w - cw) / 2, 0, cw, h) }
        return (0, 0, w, h)
    }

    @Test("random resized crop: torchvision's sampling, in bounds, deterministic per seed", arguments: [UInt64(1), 2, 3])
    func randomResizedCrop(seed: UInt64) throws {
        let crop = RandomResizedCrop(size: 24)
        let g = Generator(seed: seed), ref = Generator(seed: seed)
        var areas: [Double] = []
        for (w, h) in [(61, 47), (300, 200), (40, 400)] {
            for _ in 0..<50 {
                let r = crop.region(imageWidth: w, imageHeight: h, generator: g)
                let e = referenceRegion(w, h, scale: 0.08...1, ratio: 0.75...(4.0 / 3.0), ref)
                #expect(r.x == e.0 && r.y == e.1 && r.width == e.2 && r.height == e.3)
                #expect(r.x >= 0 && r.y >= 0 && r.x + r.width <= w && r.y + r.height <= h && r.width > 0 && r.height > 0)
                areas.append(Double(r.width * r.height) / Double(w * h))
            }
        }
        #expect(areas.min()! >= 0.07 && areas.max()! <= 1.0)
        let source = try #require(decode(imageFixture("src_rgb.png")))
        let a = crop.apply(to: source, generator: Generator(seed: seed))
        let b = crop.apply(to: source, generator: Generator(seed: seed))
        let c = crop.apply(to: source, generator: Generator(seed: seed + 10))
        #expect(a == b)
        #expect(a != c)
        #expect((a.width, a.height) == (24, 24))
        // The output is the chosen region resized (bilinear), nothing else.
        let r = crop.region(imageWidth: source.width, imageHeight: source.height, generator: Generator(seed: seed))
        #expect(a == source.cropped(x: r.x, y: r.y, width: r.width, height: r.height).resized(width: 24, height: 24))
    }

    @Test("random resized crop falls back to the centre crop clamped to the ratio range")
    func randomResizedCropFallback() {
        // scale > 1 of a very wide image never fits, so every attempt fails.
        let crop = RandomResizedCrop(width: 8, height: 8, scale: 2...3, ratio: 0.75...(4.0 / 3.0))
        let wide = crop.region(imageWidth: 400, imageHeight: 50, generator: Generator(seed: 1))
        #expect(wide == (x: 166, y: 0, width: 67, height: 50))  // w = round(50 * 4/3) = 67
        let tall = crop.region(imageWidth: 30, imageHeight: 300, generator: Generator(seed: 1))
        #expect(tall == (x: 0, y: 130, width: 30, height: 40))  // h = round(30 / 0.75) = 40
        let square = crop.region(imageWidth: 20, imageHeight: 20, generator: Generator(seed: 1))
        #expect(square == (x: 0, y: 0, width: 20, height: 20))
    }

    @Test("random horizontal flip: about half the time, exact mirror, per seed")
    func randomFlip() {
        let image = Image(width: 4, height: 2, channels: 1, pixels: [UInt8]([1, 2, 3, 4, 5, 6, 7, 8]))
        let g = Generator(seed: 5)
        var flips = 0
        for _ in 0..<400 {
            let out = RandomHorizontalFlip().apply(to: image, generator: g)
            if out == image.flippedHorizontally() { flips += 1 } else { #expect(out == image) }
        }
        #expect(flips > 160 && flips < 240, "\(flips) flips in 400")
        #expect(RandomHorizontalFlip(probability: 0).apply(to: image, generator: g) == image)
        #expect(RandomHorizontalFlip(probability: 1).apply(to: image, generator: g) == image.flippedHorizontally())
    }

    @Test("colour jitter: factor ranges as torchvision, random order, reproducible, equals the composed adjustments",
          arguments: [UInt64(1), 2, 3])
    func colorJitter(seed: UInt64) throws {
        let jitter = ColorJitter(brightness: 0.4, contrast: 0.3, saturation: 0.5, hue: 0.1)
        let g = Generator(seed: seed)
        var orders = Set<[Int]>()
        for _ in 0..<100 {
            let p = jitter.parameters(generator: g)
            #expect(p.order.sorted() == [0, 1, 2, 3])
            orders.insert(p.order)
            let b = try #require(p.brightness), c = try #require(p.contrast)
            let s = try #require(p.saturation), h = try #require(p.hue)
            #expect(b >= 0.6 && b <= 1.4 && c >= 0.7 && c <= 1.3 && s >= 0.5 && s <= 1.5 && h >= -0.1 && h <= 0.1)
        }
        #expect(orders.count > 10)
        let source = try #require(decode(imageFixture("src_rgb.png")))
        let out = jitter.apply(to: source, generator: Generator(seed: seed))
        #expect(out == jitter.apply(to: source, generator: Generator(seed: seed)))
        let p = jitter.parameters(generator: Generator(seed: seed))
        var expected = source
        for i in p.order {
            switch i {
            case 0: expected = expected.adjustingBrightness(p.brightness!)
            case 1: expected = expected.adjustingContrast(p.contrast!)
            case 2: expected = expected.adjustingSaturation(p.saturation!)
            default: expected = expected.adjustingHue(p.hue!)
            }
        }
        #expect(out == expected)
        // Disabled adjustments draw nothing and change nothing.
        let none = ColorJitter().parameters(generator: Generator(seed: seed))
        #expect(none.brightness == nil && none.contrast == nil && none.saturation == nil && none.hue == nil)
        #expect(ColorJitter().apply(to: source, generator: Generator(seed: seed)) == source)
    }
}
