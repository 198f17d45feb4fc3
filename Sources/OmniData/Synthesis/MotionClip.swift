// Short clips of one shape moving across the frame, for the demo corpus's video part.
import Foundation
import OmniTensor

/// Directions a clip's object moves in.
public enum MotionDirection: String, CaseIterable, Codable, Sendable {
    case left, right, up, down
}

public enum MotionClip {
    /// `frames` images of a `shape` in `color` moving `direction` across a `side`×`side` canvas,
    /// with the start point, speed and background drawn from `generator`.
    public static func render(shape: ShapeKind, color: ColorName, direction: MotionDirection, frames: Int = 8,
                              side: Int = 64, generator: Generator) -> [Image] {
        precondition(frames >= 2 && side >= 16, "MotionClip: needs at least 2 frames and 16 pixels")
        let s = Float(side)
        let u = { Float(generator.nextDouble()) }
        let r = s * (0.10 + 0.04 * u())
        let travel = s * (0.45 + 0.15 * u())
        let across = r + 2 + (s - 2 * r - 4) * u()               // the fixed coordinate
        let start = r + 2 + (s - 2 * r - 4 - travel) * u()        // along the motion, from the low side
        let background = (0.08 + 0.1 * u(), 0.08 + 0.1 * u(), 0.08 + 0.1 * u())
        let (cr, cg, cb) = color.rgb
        return (0..<frames).map { f in
            var along = start + travel * Float(f) / Float(frames - 1)
            if direction == .left || direction == .up { along = s - along }
            let (cx, cy) = direction == .left || direction == .right ? (along, across) : (across, along)
            var pixels = [UInt8](repeating: 0, count: side * side * 3)
            for py in 0..<side { for px in 0..<side {
                var cover: Float = 0
                for sy in 0..<3 { for sx in 0..<3 {
                    let x = Float(px) + (Float(sx) + 0.5) / 3, y = Float(py) + (Float(sy) + 0.5) / 3
                    if ShapeScene.contains(shape, dx: x - cx, dy: y - cy, radius: r, rotation: 0) { cover += 1 }
                } }
                cover /= 9
                let noise = (u() - 0.5) * 0.04
                let rgb = [background.0 * (1 - cover) + cr * cover + noise, background.1 * (1 - cover) + cg * cover + noise,
                           background.2 * (1 - cover) + cb * cover + noise]
                for c in 0..<3 { pixels[(py * side + px) * 3 + c] = UInt8(max(0, min(255, (rgb[c] * 255).rounded()))) }
            } }
            return Image(width: side, height: side, channels: 3, pixels: pixels)
        }
    }

    /// "a red circle moving left".
    public static func caption(shape: ShapeKind, color: ColorName, direction: MotionDirection) -> String {
        "a \(color.rawValue) \(shape.rawValue) moving \(direction.rawValue)"
    }
}
