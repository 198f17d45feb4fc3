import OmniTensor

/// Random brightness, contrast, saturation and hue changes (torchvision's `ColorJitter` on PIL
/// images), drawn from an explicit ``OmniTensor/Generator``.
///
/// As in torchvision, each call draws a random order of the four adjustments (a permutation from
/// the generator), then the factors in the fixed order brightness, contrast, saturation, hue —
/// `uniform(max(0, 1 - b), 1 + b)` for the first three and `uniform(-h, h)` for hue — and applies
/// the enabled adjustments in the drawn order. A zero strength disables an adjustment (no draw).
/// The random numbers come from Omni's generator, so a seed reproduces Omni's results, not PyTorch's.
///
/// ```swift
/// let jitter = ColorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1)
/// let augmented = jitter.apply(to: image, generator: Generator(seed: 7))
/// ```
public struct ColorJitter: Sendable, Equatable {
    /// Brightness factors are drawn from `max(0, 1 - brightness)...1 + brightness`.
    public let brightness: Double
    /// Contrast factors are drawn from `max(0, 1 - contrast)...1 + contrast`.
    public let contrast: Double
    /// Saturation factors are drawn from `max(0, 1 - saturation)...1 + saturation`.
    public let saturation: Double
    /// Hue shifts (in turns) are drawn from `-hue...hue`.
    public let hue: Double

    /// Strengths: brightness, contrast and saturation ≥ 0; hue in 0...0.5.
    public init(brightness: Double = 0, contrast: Double = 0, saturation: Double = 0, hue: Double = 0) {
        imageCheck(brightness >= 0 && contrast >= 0 && saturation >= 0, "ColorJitter",
                   "brightness, contrast and saturation must be non-negative, got \(brightness), \(contrast), \(saturation)")
        imageCheck((0...0.5).contains(hue), "ColorJitter", "hue must be in 0...0.5, got \(hue)")
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
    }

    /// The drawn order (indices 0 brightness, 1 contrast, 2 saturation, 3 hue) and factors (nil when
    /// disabled), in the order they are drawn.
    public func parameters(generator: Generator) -> (order: [Int], brightness: Float?, contrast: Float?,
                                                     saturation: Float?, hue: Double?) {
        var order = [0, 1, 2, 3]
        for i in stride(from: 3, to: 0, by: -1) { order.swapAt(i, generator.nextInt(below: i + 1)) }
        func factor(_ s: Double) -> Float? {
            guard s > 0 else { return nil }
            let lo = Swift.max(0, 1 - s), hi = 1 + s
            return Float(lo + (hi - lo) * generator.nextDouble())
        }
        let b = factor(brightness), c = factor(contrast), s = factor(saturation)
        let h = hue > 0 ? -hue + 2 * hue * generator.nextDouble() : nil
        return (order, b, c, s, h)
    }

    /// The image with the drawn adjustments applied (8-bit images).
    public func apply(to image: Image, generator: Generator) -> Image {
        let p = parameters(generator: generator)
        var out = image
        for index in p.order {
            switch index {
            case 0: if let f = p.brightness { out = out.adjustingBrightness(f) }
            case 1: if let f = p.contrast { out = out.adjustingContrast(f) }
            case 2: if let f = p.saturation { out = out.adjustingSaturation(f) }
            default: if let f = p.hue { out = out.adjustingHue(f) }
            }
        }
        return out
    }
}
