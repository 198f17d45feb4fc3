// libFuzzer target: JSONL manifest parsing and validation. Any input must give a manifest with
// per-line issues or a ManifestError.
import Foundation
import FuzzSupport
import OmniData

@main
enum FuzzManifest {
    static func main() {
        FuzzInput.run { data, size in
            let url = URL(fileURLWithPath: FuzzInput.file(data, size, extension: "jsonl"))
            if let manifest = try? Manifest.load(contentsOf: url) {
                _ = manifest.validate(checkFiles: true)
            }
            return 0
        }
    }
}
