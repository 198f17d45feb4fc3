import OmniTensor

/// Reads and writes NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Reading accepts little- or big-endian `f4 f8 f2 i1 u1 i4 i8 b1` (`f8` is converted to float32)
/// in C or Fortran order (Fortran arrays come back with the right values in C order). The file is
/// memory-mapped and an aligned little-endian C-order array borrows the mapping. Writing produces
/// version 1.0 (2.0 for huge headers), C order, little-endian, atomically. NumPy has no
/// bfloat16, so bfloat16 tensors must be converted before writing.
///
/// ```swift
/// try NPY.write(Tensor([1, 2, 3, 4], shape: [2, 2]), to: "x.npy")
/// let x = try NPY.read(contentsOf: "x.npy")   // [2, 2] float32
/// ```
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
    /// Longest header accepted; NumPy itself refuses headers over 10 000 bytes by default.
    static let maxHeaderSize = 1 << 20

    /// Whether `bytes` start with the `.npy` magic string.
    static func hasSignature(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 6 && bytes.prefix(6).elementsEqual(magic)
    }

    /// Reads the array in the file.
    public static func read(contentsOf path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        return try decode(file.bytes, owner: file, file: path, what: "npy").tensor
    }

    /// Writes `tensor` atomically (temporary file, fsync, rename).
    public static func write(_ tensor: Tensor, to path: String) throws {
        let header = try encodeHeader(tensor, file: path)
        let writer = try AtomicFileWriter(path: path)
        try writer.write(header)
        try tensor.withUnsafeBytes { try writer.write($0) }
        try writer.commit()
    }

    /// Writes `bytes` — C-order values of NumPy type `descriptor` (e.g. `"<u2"`, `"<i2"`, `"<u4"`) —
    /// as an array of `shape`, atomically. For element types ``OmniTensor/DType`` does not have, such
    /// as the 16-bit samples of DICOM pixel data.
    public static func write(rawBytes bytes: UnsafeRawBufferPointer, descriptor: String, shape: [Int], to path: String) throws {
        let size = descriptor.dropFirst().dropFirst().first.flatMap { Int(String($0)) } ?? 0
        guard descriptor.count >= 3, "<>|".contains(descriptor.first!), size > 0 else {
            throw WeightsError(file: path, "'\(descriptor)' is not a NumPy type string such as '<u2'")
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) * size == bytes.count else {
            throw WeightsError(file: path, "\(bytes.count) bytes do not hold a '\(descriptor)' array of shape \(shape)")
        }
        let header = encodeHeader(descriptor: descriptor, shape: shape)
        let writer = try AtomicFileWriter(path: path)
        try writer.write(header)
        try writer.write(bytes)
        try writer.commit()
    }

    static func descr(_ dtype: DType, file: String) throws -> String {
        switch dtype {
        case .float32: return "<f4"
        case .float16: return "<f2"
        case .int8: return "|i1"
        case .uint8: return "|u1"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .bool: return "|b1"
        case .bfloat16:
            throw WeightsError(file: file, "npy has no bfloat16 type; convert the tensor to float32 (or use safetensors)")
        }
    }

    /// The magic, version, length and padded header dictionary for `tensor`.
    static func encodeHeader(_ tensor: Tensor, file: String) throws -> [UInt8] {
        encodeHeader(descriptor: try descr(tensor.dtype, file: file), shape: tensor.shape)
    }

    static func encodeHeader(descriptor: String, shape dims: [Int]) -> [UInt8] {
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        // Version 1.0 stores the header length in 2 bytes; pad so the data starts 64-byte aligned.
        let version: UInt8 = dict.count + 1 + 10 + 63 <= 0xFFFF ? 1 : 2
        let prefix = version == 1 ? 10 : 12
        let total = (prefix + dict.count + 1 + 63) / 64 * 64
        dict += [UInt8](repeating: 0x20, count: total - prefix - dict.count - 1) + [0x0A]
        var out = magic + [version, 0]
        let n = dict.count
        if version == 1 {
            out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        } else {
            out += [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8((n >> 24) & 0xFF)]
        }
        return out + dict
    }

    /// Decodes an `.npy` image held in `bytes` (a file or an `.npz` member) owned by `owner`.
    static func decode(_ bytes: UnsafeRawBufferPointer, owner: AnyObject, file: String,
                       what: String) throws -> (tensor: Tensor, note: String?) {
        var r = ByteReader(bytes, file: file)
        guard hasSignature(bytes) else { throw WeightsError(file: file, "\(what): missing the \\x93NUMPY magic string") }
        try r.skip(6, what)
        let major = try r.u8("\(what) version"), minor = try r.u8("\(what) version")
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try r.u16("\(what) header length"))
        case 2, 3: headerLength = Int(try r.u32("\(what) header length"))
        default: throw WeightsError(file: file, "\(what): unsupported format version \(major).\(minor)")
        }
        guard headerLength <= maxHeaderSize else {
            throw WeightsError(file: file, "\(what): header length \(headerLength) exceeds the \(maxHeaderSize)-byte limit")
        }
        let headerBytes = try r.take(headerLength, "\(what) header")
        // Versions 1 and 2 are latin-1, 3 is UTF-8; the keys and values we need are ASCII.
        let text: String = major == 3 ? (String(validating: headerBytes, as: UTF8.self) ?? "")
                                      : String(headerBytes.map { Character(Unicode.Scalar($0)) })
        let header = try NPYHeader(parsing: text, file: file, what: what)

        let stored: TensorDecoding.Stored
        let order = header.descr.first.map { "<>|=".contains($0) } == true ? header.descr.first! : "|"
        let code = header.descr.first.map { "<>|=".contains($0) } == true ? String(header.descr.dropFirst()) : header.descr
        switch code {
        case "f4": stored = .native(.float32)
        case "f8": stored = .float64
        case "f2": stored = .native(.float16)
        case "i1": stored = .native(.int8)
        case "u1": stored = .native(.uint8)
        case "i4": stored = .native(.int32)
        case "i8": stored = .native(.int64)
        case "b1", "?": stored = .native(.bool)
        default:
            throw WeightsError(file: file, "\(what): unsupported dtype '\(header.descr)' (supported: f4, f8, f2, i1, u1, i4, i8, b1)")
        }
        let bigEndian = order == ">"
        let count = try TensorDecoding.elementCount(header.shape, file: file, what: what)
        let expected = count * stored.size
        guard r.remaining == expected else {
            throw WeightsError(file: file, "\(what): '\(header.descr)' \(header.shape) needs \(expected) data bytes, found \(r.remaining)")
        }
        let region = try r.take(expected, "\(what) data")
        let note = stored == .float64 ? "\(what): float64 converted to float32" : nil
        if header.fortranOrder && header.shape.count > 1 {
            // Fortran order is C order of the reversed shape; permute back and make dense.
            let reversed = Array(header.shape.reversed())
            let t = TensorDecoding.tensor(from: region, owner: owner, shape: reversed, stored: stored, bigEndian: bigEndian)
            return (t.permuted(Array((0..<reversed.count).reversed())).contiguous(), note)
        }
        return (TensorDecoding.tensor(from: region, owner: owner, shape: header.shape, stored: stored, bigEndian: bigEndian), note)
    }
}
