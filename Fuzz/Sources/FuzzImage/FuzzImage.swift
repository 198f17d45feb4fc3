// libFuzzer target: PNG and JPEG decoding (libpng behind setjmp, libjpeg-turbo, EXIF orientation).
// Any input must give an image or an ImageError.
import FuzzSupport
import OmniData

@main
enum FuzzImage {
    static func main() {
        FuzzInput.run { data, size in
            let path = FuzzInput.file(data, size, extension: "img")
            if let image = try? Image(contentsOfFile: path), image.width * image.height <= 1 << 16 {
                _ = image.resized(width: 7, height: 5, filter: .bilinear)
            }
            return 0
        }
    }
}
