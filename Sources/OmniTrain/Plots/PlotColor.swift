/// An opaque 8-bit RGB colour for plots.
public struct PlotColor: Sendable, Hashable, Codable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from 0xRRGGBB.
    public init(hex: UInt32) {
        self.init(red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
    }

    public static let white = PlotColor(hex: 0xFFFFFF)
    public static let black = PlotColor(hex: 0x000000)
    /// Axis labels and ticks.
    public static let darkGray = PlotColor(hex: 0x404040)
    /// Grid lines.
    public static let lightGray = PlotColor(hex: 0xE0E0E0)

    /// Distinct line colours, used in order for series without their own colour (the ten
    /// "category10" colours of d3 / matplotlib's `tab10`).
    public static let palette: [PlotColor] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map { PlotColor(hex: $0) }
}
