// libFuzzer target: DICOM parsing and pixel decoding through the GDCM shim (every transfer syntax),
// plus de-identification. Any input must give a file or a DICOMError.
import Foundation
import FuzzSupport
import OmniData

@main
enum FuzzDICOM {
    static func main() {
        FuzzInput.run { data, size in
            let path = FuzzInput.file(data, size, extension: "dcm")
            guard let file = try? DICOMFile(contentsOfFile: path) else { return 0 }
            _ = file.metadata
            if let pixels = try? file.pixels(convertingYBRToRGB: true, maximumBytes: 1 << 24) { _ = pixels.shape }
            if let data { _ = try? DICOMAnonymizer.anonymize(Data(bytes: data, count: size), path: path) }
            return 0
        }
    }
}
