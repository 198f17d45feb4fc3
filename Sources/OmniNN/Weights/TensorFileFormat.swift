/// The tensor file formats OmniNN reads (see ``TensorFile``).
public enum TensorFileFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Hugging Face safetensors: JSON header and raw little-endian data, memory-mapped.
    case safetensors
    /// `torch.save` since PyTorch 1.6: a zip archive holding `data.pkl` and one member per storage.
    case pytorchZip
    /// `torch.save(..., _use_new_zipfile_serialization=False)`: pickles followed by raw storages.
    case pytorchLegacy
    /// A single NumPy array (`.npy`).
    case npy
    /// A zip archive of `.npy` members (`.npz`).
    case npz

    public var description: String { rawValue }
}
