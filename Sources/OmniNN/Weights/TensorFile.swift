import OmniTensor

/// One entry point for every tensor file format OmniNN reads: safetensors, PyTorch checkpoints
/// (zip and legacy), `.npy` and `.npz`. The format is detected from the file's first bytes, and
/// from its extension when those are not conclusive (so a damaged file still gets the error of
/// the reader it was meant for).
///
/// ```swift
/// for (name, tensor) in try TensorFile.load("model.safetensors") { print(name, tensor.shape) }
/// let table = try TensorFile.summary("mobilenet_v2.pth")   // [TensorSummary] for `omni inspect`
/// ```
public enum TensorFile {
    /// The tensors in file order. A `.npy` file gives one tensor named after the file
    /// (`weights/bias.npy` → `bias`); a PyTorch checkpoint is flattened as described in
    /// ``TorchCheckpoint``.
    public static func load(_ path: String) throws -> [(name: String, tensor: Tensor)] {
        try read(contentsOf: path).tensors
    }

    /// Name, dtype and shape of every tensor, in file order.
    ///
    /// Safetensors files are memory-mapped, so this touches only the header; other formats may
    /// copy tensor data.
    public static func summary(_ path: String) throws -> [TensorSummary] {
        try read(contentsOf: path).tensors.map { TensorSummary(name: $0.name, dtype: $0.tensor.dtype, shape: $0.tensor.shape) }
    }

    /// The tensors with the file's metadata and the reader's notes.
    public static func read(contentsOf path: String) throws -> TensorFileContents {
        let file = try MappedFile(path: path)
        switch try format(of: file) {
        case .safetensors:
            return try SafeTensors.read(file)
        case .npy:
            let (tensor, note) = try NPY.decode(file.bytes, owner: file, file: path, what: "npy")
            return TensorFileContents(format: .npy, tensors: [(baseName(path), tensor)], notes: note.map { [$0] } ?? [])
        case .npz:
            return try NPZ.read(ZipArchive(file))
        case .pytorchZip:
            return try TorchCheckpoint.readZip(ZipArchive(file), selecting: [])
        case .pytorchLegacy:
            return try TorchCheckpoint.readLegacy(file, selecting: [])
        }
    }

    /// The format of the file at `path`.
    public static func format(of path: String) throws -> TensorFileFormat {
        try format(of: MappedFile(path: path))
    }

    static func format(of file: MappedFile) throws -> TensorFileFormat {
        let bytes = file.bytes
        if NPY.hasSignature(bytes) { return .npy }
        if ZipArchive.hasSignature(bytes) {
            // A zip with a data.pkl is a PyTorch checkpoint; anything else is treated as .npz.
            if let archive = try? ZipArchive(file), TorchCheckpoint.pickleEntry(in: archive) != nil { return .pytorchZip }
            return ["pth", "pt", "bin", "ckpt"].contains(extensionOf(file.path)) ? .pytorchZip : .npz
        }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) { return .pytorchLegacy }
        if bytes.count >= 9 {
            let n = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
            if n <= UInt64(bytes.count - 8), bytes[8] == UInt8(ascii: "{") { return .safetensors }
        }
        switch extensionOf(file.path) {
        case "safetensors": return .safetensors
        case "npy": return .npy
        case "npz": return .npz
        case "pth", "pt", "bin", "ckpt": return .pytorchLegacy
        default:
            throw WeightsError(file: file.path, "unrecognised tensor file format (expected safetensors, a PyTorch checkpoint, .npy or .npz)")
        }
    }

    static func extensionOf(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    static func baseName(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }
}
