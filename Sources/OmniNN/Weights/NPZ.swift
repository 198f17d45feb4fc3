import OmniTensor

/// Reads and writes NumPy `.npz` archives (zip files of `.npy` members).
///
/// Reading accepts stored and deflated members (`np.savez`, `np.savez_compressed`); each
/// `name.npy` member becomes a tensor called `name`, in archive order. Other members are
/// skipped with a note. Writing stores members uncompressed, atomically.
///
/// ```swift
/// try NPZ.write([("weight", w), ("bias", b)], to: "layer.npz")
/// let layer = try NPZ.read(contentsOf: "layer.npz")
/// ```
public enum NPZ {
    /// Reads every `.npy` member, in archive order (float64 members are converted, with a note).
    public static func read(contentsOf path: String) throws -> TensorFileContents {
        try read(ZipArchive(MappedFile(path: path)))
    }

    static func read(_ archive: ZipArchive) throws -> TensorFileContents {
        var tensors: [(name: String, tensor: Tensor)] = []
        var notes: [String] = []
        var seen = Set<String>()
        for entry in archive.entries {
            guard entry.name.hasSuffix(".npy") else {
                if !entry.name.hasSuffix("/") { notes.append("member \"\(entry.name)\" is not an .npy array; skipped") }
                continue
            }
            let name = String(entry.name.dropLast(4))
            guard seen.insert(name).inserted else {
                throw WeightsError(file: archive.path, "npz: member \"\(entry.name)\" appears twice")
            }
            let (bytes, owner) = try archive.contents(of: entry)
            let (tensor, note) = try NPY.decode(bytes, owner: owner, file: archive.path, what: "npz member \"\(entry.name)\"")
            tensors.append((name, tensor))
            if let note { notes.append(note) }
        }
        return TensorFileContents(format: .npz, tensors: tensors, notes: notes)
    }

    /// Writes each tensor as an uncompressed member `name.npy`, in order.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], to path: String) throws {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard !name.isEmpty, seen.insert(name).inserted else {
                throw WeightsError(file: path, "npz: tensor name \"\(name)\" is empty or appears twice")
            }
        }
        let zip = try ZipWriter(path: path)
        for (name, tensor) in tensors {
            let header = try NPY.encodeHeader(tensor, file: path)
            let dense = tensor.contiguous()
            var crc = header.withUnsafeBytes { ZipArchive.crc32($0) }
            crc = dense.withUnsafeBytes { ZipArchive.crc32($0, start: crc) }
            try zip.addStored(name: name + ".npy", size: header.count + dense.count * dense.dtype.size, crc: crc) { out in
                try out.write(header)
                try dense.withUnsafeBytes { try out.write($0) }
            }
        }
        try zip.finish()
    }
}
