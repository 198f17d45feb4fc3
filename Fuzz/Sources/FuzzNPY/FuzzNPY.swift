// libFuzzer target: NumPy .npy and .npz readers. Any input must give a tensor or a WeightsError.
import FuzzSupport
import OmniNN

@main
enum FuzzNPY {
    static func main() {
        FuzzInput.run { data, size in
            let npy = FuzzInput.file(data, size, extension: "npy")
            if let t = try? NPY.read(contentsOf: npy), t.count > 0 { _ = t.converted(to: .float32).sum().item() }
            _ = try? NPZ.read(contentsOf: FuzzInput.file(data, size, extension: "npz"))
            return 0
        }
    }
}
