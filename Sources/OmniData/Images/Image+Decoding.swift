import Foundation

extension Image {
    /// Files larger than this (1 GiB) are refused before reading.
    public static let maximumFileSize = 1 << 30

    /// Decodes a PNG or JPEG file (the format is told by its first bytes, not its name).
    ///
    /// PNG: 8- and 16-bit gray, gray + alpha, RGB, RGBA, palettes (to RGB, or RGBA when the file
    /// has transparency), 1/2/4-bit gray (scaled to 8 bits), interlaced or not; sample values as
    /// stored (no gamma correction, like Pillow). JPEG: gray, RGB and CMYK (converted to RGB as
    /// Pillow does); the EXIF orientation is applied, so the image is upright
    /// (Pillow's `ImageOps.exif_transpose`).
    ///
    /// Throws ``ImageError`` naming `path` for unreadable, truncated, corrupt or oversized files
    /// (more than ``maximumPixelCount`` pixels; checked before any pixel memory is allocated).
    ///
    /// ```swift
    /// let image = try Image(contentsOfFile: "photo.jpg")
    /// print(image.width, image.height, image.channels)
    /// ```
    public init(contentsOfFile path: String) throws(ImageError) {
        let url = URL(fileURLWithPath: path)
        let size: Int
        do {
            let values = try url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
            guard values.isRegularFile == true else { throw ImageError(file: path, "not a regular file") }
            size = values.fileSize ?? 0
        } catch let error as ImageError {
            throw error
        } catch {
            throw ImageError(file: path, "cannot read the file (\(error.localizedDescription))")
        }
        guard size <= Image.maximumFileSize else {
            throw ImageError(file: path, "file is \(size) bytes, above the limit of \(Image.maximumFileSize)")
        }
        // Checked before reading: Foundation's Data(contentsOf:) leaks its buffer on an empty file.
        guard size > 0 else { throw ImageError(file: path, "empty file") }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImageError(file: path, "cannot read the file (\(error.localizedDescription))")
        }
        try self.init(data: [UInt8](data), name: path)
    }

    /// Decodes PNG or JPEG bytes; `name` is what errors report as the file.
    public init(data: [UInt8], name: String = "<memory>") throws(ImageError) {
        guard !data.isEmpty else { throw ImageError(file: name, "empty file") }
        if data.count >= 8, data[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = try Image.decodePNG(data, name: name)
        } else if data.count >= 3, data[0] == 0xFF, data[1] == 0xD8, data[2] == 0xFF {
            self = try Image.decodeJPEG(data, name: name)
        } else {
            let head = data.prefix(8).map { String(format: "%02X", $0) }.joined(separator: " ")
            throw ImageError(file: name, "not a PNG or JPEG file (starts with \(head))")
        }
    }

    /// Refuses sizes that are zero or above ``maximumPixelCount``.
    static func checkDecodedSize(_ width: Int, _ height: Int, name: String) throws(ImageError) {
        guard width > 0, height > 0 else {
            throw ImageError(file: name, "header gives an empty image (\(width)x\(height))")
        }
        guard width <= Image.maximumPixelCount, height <= Image.maximumPixelCount,
              width * height <= Image.maximumPixelCount else {
            throw ImageError(file: name, "image is \(width)x\(height) (\(width * height) pixels), above the limit of "
                             + "\(Image.maximumPixelCount) pixels")
        }
    }

    /// Writes the image as PNG or JPEG, chosen by the extension (`.png`, `.jpg`, `.jpeg`), atomically
    /// (a temporary file renamed into place).
    public func write(toFile path: String, jpegQuality: Int = 90) throws(ImageError) {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        let bytes: [UInt8]
        switch ext {
        case "png": bytes = try pngData()
        case "jpg", "jpeg": bytes = try jpegData(quality: jpegQuality)
        default: throw ImageError(file: path, "unknown image extension '.\(ext)' (use .png, .jpg or .jpeg)")
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ImageError(file: path, "cannot write the file (\(error.localizedDescription))")
        }
    }
}

/// The text of a NUL-terminated C buffer.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
