import OmniTensor

/// Reads and writes Hugging Face safetensors files.
///
/// Reading memory-maps the file and the tensors borrow the mapping (no copy), except tensors
/// whose data is not aligned to their element size and F64 tensors (converted to float32, with a
/// note). Everything in the header is validated against the file before any tensor is built:
/// header length, JSON syntax, dtype names, shapes, and offsets, which must tile the data
/// section exactly (in order, no gaps, no overlaps, exact byte size per dtype).
///
/// ```swift
/// try SafeTensors.write([("w", w), ("b", b)], metadata: ["format": "pt"], to: "tiny.safetensors")
/// let back = try SafeTensors.read(contentsOf: "tiny.safetensors")   // names ["w", "b"]
/// ```
public enum SafeTensors {
    /// Headers larger than this are refused (the reference implementation uses the same cap).
    public static let maxHeaderSize = 100 << 20

    static func dtypeName(_ d: DType) -> String {
        switch d {
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .int32: return "I32"
        case .int64: return "I64"
        case .bool: return "BOOL"
        }
    }

    static func stored(forName name: String) -> TensorDecoding.Stored? {
        if name == "F64" { return .float64 }
        return DType.allCases.first { dtypeName($0) == name }.map { .native($0) }
    }

    /// Reads every tensor and the `__metadata__` map, in header order.
    public static func read(contentsOf path: String) throws -> TensorFileContents {
        let file = try MappedFile(path: path)
        return try read(file)
    }

    static func read(_ file: MappedFile) throws -> TensorFileContents {
        let path = file.path
        let bytes = file.bytes
        guard bytes.count >= 8 else {
            throw WeightsError(file: path, "\(bytes.count) bytes is too small for a safetensors file (needs an 8-byte header length)")
        }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(maxHeaderSize) else {
            throw WeightsError(file: path, "header length \(headerLength) exceeds the \(maxHeaderSize)-byte limit")
        }
        let n = Int(headerLength)
        guard 8 + n <= bytes.count else {
            throw WeightsError(file: path, "header length \(n) runs past the end of the \(bytes.count)-byte file")
        }
        let json = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + n)]), file: path, what: "header")
        guard case .object(let members) = json else {
            throw WeightsError(file: path, "header is \(json.kind), expected an object")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[(8 + n)...])

        var metadata: [String: String] = [:]
        var notes: [String] = []
        var seen = Set<String>()
        var entries: [(name: String, shape: [Int], stored: TensorDecoding.Stored, range: Range<Int>)] = []
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw WeightsError(file: path, "header lists \"\(name)\" twice") }
            if name == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw WeightsError(file: path, "__metadata__ is \(value.kind), expected an object of strings")
                }
                for (k, v) in pairs {
                    guard let s = v.stringValue else {
                        throw WeightsError(file: path, "__metadata__ value for \"\(k)\" is \(v.kind), expected a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let fields) = value else {
                throw WeightsError(file: path, "tensor \"\(name)\": header entry is \(value.kind), expected an object")
            }
            func field(_ key: String) throws -> JSONValue {
                guard let v = fields.first(where: { $0.key == key })?.value else {
                    throw WeightsError(file: path, "tensor \"\(name)\": header entry has no \"\(key)\"")
                }
                return v
            }
            guard let dtypeText = try field("dtype").stringValue else {
                throw WeightsError(file: path, "tensor \"\(name)\": dtype is not a string")
            }
            guard let stored = stored(forName: dtypeText) else {
                throw WeightsError(file: path, "tensor \"\(name)\": unsupported dtype \"\(dtypeText)\" (supported: F32, F16, BF16, I8, U8, I32, I64, BOOL, F64)")
            }
            guard case .array(let dims) = try field("shape") else {
                throw WeightsError(file: path, "tensor \"\(name)\": shape is not an array")
            }
            var shape: [Int] = []
            for d in dims {
                guard let v = d.intValue else {
                    throw WeightsError(file: path, "tensor \"\(name)\": shape entry \(d.kind) is not an integer")
                }
                shape.append(v)
            }
            let count = try TensorDecoding.elementCount(shape, file: path, what: "tensor \"\(name)\"")
            guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
                  let begin = offsets[0].intValue, let end = offsets[1].intValue else {
                throw WeightsError(file: path, "tensor \"\(name)\": data_offsets must be two integers")
            }
            guard 0 <= begin, begin <= end, end <= data.count else {
                throw WeightsError(file: path, "tensor \"\(name)\": data_offsets [\(begin), \(end)] lie outside the \(data.count)-byte data section")
            }
            let expected = count * stored.size
            guard end - begin == expected else {
                throw WeightsError(file: path, "tensor \"\(name)\": data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but \(dtypeText) \(shape) needs \(expected)")
            }
            entries.append((name, shape, stored, begin..<end))
        }

        // The data section must be tiled exactly: sorted by offset, each tensor starts where the
        // previous one ended and the last one ends at the end of the file.
        let byOffset = entries.indices.sorted {
            (entries[$0].range.lowerBound, entries[$0].range.upperBound) < (entries[$1].range.lowerBound, entries[$1].range.upperBound)
        }
        var cursor = 0
        for i in byOffset {
            let e = entries[i]
            if e.range.lowerBound < cursor {
                throw WeightsError(file: path, "tensor \"\(e.name)\": data_offsets [\(e.range.lowerBound), \(e.range.upperBound)] overlap the previous tensor, which ends at \(cursor)")
            }
            if e.range.lowerBound > cursor {
                throw WeightsError(file: path, "tensor \"\(e.name)\": data_offsets start at \(e.range.lowerBound), leaving a gap after byte \(cursor) of the data section")
            }
            cursor = e.range.upperBound
        }
        if cursor != data.count {
            throw WeightsError(file: path, "data section has \(data.count) bytes but the tensors cover only \(cursor)")
        }

        var tensors: [(name: String, tensor: Tensor)] = []
        tensors.reserveCapacity(entries.count)
        for e in entries {
            let region = UnsafeRawBufferPointer(rebasing: data[e.range])
            tensors.append((e.name, TensorDecoding.tensor(from: region, owner: file, shape: e.shape, stored: e.stored)))
            if e.stored == .float64 { notes.append("tensor \"\(e.name)\": F64 converted to float32") }
        }
        return TensorFileContents(format: .safetensors, tensors: tensors, metadata: metadata, notes: notes)
    }

    /// Writes `tensors` in the given order (atomically: temporary file, fsync, rename).
    ///
    /// The header is padded with spaces to a multiple of 8 bytes so the data section starts
    /// aligned. Names must be unique, non-empty and not `__metadata__`.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to path: String) throws {
        var seen = Set<String>()
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var offset = 0
        for (name, t) in tensors {
            guard !name.isEmpty, name != "__metadata__" else {
                throw WeightsError(file: path, "cannot write a tensor named \"\(name)\"")
            }
            guard seen.insert(name).inserted else { throw WeightsError(file: path, "tensor name \"\(name)\" appears twice") }
            let size = t.count * t.dtype.size
            members.append((name, .object([
                ("dtype", .string(dtypeName(t.dtype))),
                ("shape", .array(t.shape.map { .number(String($0)) })),
                ("data_offsets", .array([.number(String(offset)), .number(String(offset + size))])),
            ])))
            offset += size
        }
        var header = Array(JSONValue.object(members).serialized().utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        guard header.count <= maxHeaderSize else {
            throw WeightsError(file: path, "header of \(header.count) bytes exceeds the \(maxHeaderSize)-byte limit")
        }
        let writer = try AtomicFileWriter(path: path)
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try writer.write($0) }
        try writer.write(header)
        for (_, t) in tensors {
            try t.withUnsafeBytes { try writer.write($0) }
        }
        try writer.commit()
    }
}
