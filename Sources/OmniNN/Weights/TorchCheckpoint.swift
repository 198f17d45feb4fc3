import OmniTensor

/// Reads PyTorch checkpoints (`torch.save`) without running Python or any code from the file.
///
/// Both formats are supported: the zip format of PyTorch ≥ 1.6 (`<archive>/data.pkl`, one
/// member per storage under `<archive>/data/`, `<archive>/byteorder`; stored members are
/// borrowed from the memory-mapped file, deflated ones inflated) and the legacy format
/// (`_use_new_zipfile_serialization=False`, and every checkpoint older than 1.6: magic number,
/// protocol version, system info and main pickles, the storage key list, then each storage as an
/// 8-byte little-endian element count and its raw bytes). The pickles are read by ``Unpickler``,
/// which resolves only an allow-list of globals and refuses anything else by name.
///
/// Tensors are rebuilt from their storage, offset, size and stride; each is checked to lie
/// inside its storage, and non-contiguous tensors are gathered into dense C order. Tensors that
/// share a storage share its bytes.
///
/// **Nesting.** The checkpoint's object is flattened: nested dicts and lists join their keys
/// with dots (`{"model": {"fc.weight": w}}` gives `model.fc.weight`); values that are not
/// tensors (epochs, hyper-parameters) are skipped and listed in the result's notes. Pass
/// `selecting:` to flatten only a sub-object, e.g. `["state_dict"]`, so names match a model.
///
/// ```swift
/// let sd = try TorchCheckpoint.read(contentsOf: "mobilenet_v2.pth")
/// let w = sd["features.0.0.weight"]            // [32, 3, 3, 3]
/// let inner = try TorchCheckpoint.read(contentsOf: "ckpt.pt", selecting: ["model"])
/// ```
public enum TorchCheckpoint {
    /// The legacy format's magic number 0x1950a86a20f9469cfc6c, little-endian.
    /// Largest dense size of a tensor whose strides repeat storage elements (e.g. `expand`).
    public static let maxExpandedBytes = 256 << 20

    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Reads every tensor of the checkpoint (or of the sub-object at `keyPath`), in pickle order.
    public static func read(contentsOf path: String, selecting keyPath: [String] = []) throws -> TensorFileContents {
        let file = try MappedFile(path: path)
        if ZipArchive.hasSignature(file.bytes) {
            return try readZip(ZipArchive(file), selecting: keyPath)
        }
        return try readLegacy(file, selecting: keyPath)
    }

    /// The `<prefix>/data.pkl` member of a PyTorch zip checkpoint, if there is exactly one.
    static func pickleEntry(in archive: ZipArchive) -> ZipArchive.Entry? {
        let candidates = archive.entries.filter {
            $0.name == "data.pkl" || ($0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/", omittingEmptySubsequences: false).count == 2)
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    static func readZip(_ archive: ZipArchive, selecting keyPath: [String]) throws -> TensorFileContents {
        let path = archive.path
        guard let pkl = pickleEntry(in: archive) else {
            throw WeightsError(file: path, "zip archive has no single <name>/data.pkl member, so it is not a PyTorch checkpoint (TorchScript archives are not supported)")
        }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        var bigEndian = false
        if let order = archive.entry(named: prefix + "byteorder") {
            let (bytes, owner) = try archive.contents(of: order)
            let text = withExtendedLifetime(owner) { String(decoding: bytes, as: UTF8.self) }
            switch text {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default: throw WeightsError(file: path, "byteorder member says \"\(text.prefix(20))\", expected little or big")
            }
        }
        let (pickleBytes, pickleOwner) = try archive.contents(of: pkl)
        defer { withExtendedLifetime(pickleOwner) {} }
        var unpickler = Unpickler(pickleBytes, file: path, what: "\(pkl.name)") { pid in
            try storageRef(pid, file: path, legacy: false)
        }
        let root = try unpickler.load()
        defer { withExtendedLifetime(unpickler.arena) {} }

        var cache: [String: (bytes: UnsafeRawBufferPointer, owner: AnyObject)] = [:]
        return try materialize(root, file: path, format: .pytorchZip, selecting: keyPath, bigEndian: bigEndian) { ref in
            if let hit = cache[ref.key] { return hit }
            guard let entry = archive.entry(named: prefix + "data/" + ref.key) else {
                throw WeightsError(file: path, "storage \"\(ref.key)\" has no member \(prefix)data/\(ref.key)")
            }
            let contents = try archive.contents(of: entry)
            let needed = ref.count * ref.stored.size
            guard contents.bytes.count == needed else {
                throw WeightsError(file: path, "storage \"\(ref.key)\": member holds \(contents.bytes.count) bytes, but \(ref.count) elements need \(needed)")
            }
            cache[ref.key] = contents
            return contents
        }
    }

    static func readLegacy(_ file: MappedFile, selecting keyPath: [String]) throws -> TensorFileContents {
        let path = file.path
        let bytes = file.bytes
        guard bytes.count >= 2, bytes[0] == 0x80 else {
            throw WeightsError(file: path, "not a PyTorch checkpoint: neither a zip archive nor a pickle")
        }
        var offset = 0
        var arenas: [PickleArena] = []  // keeps the main pickle's containers alive until the end
        defer { withExtendedLifetime(arenas) {} }
        func next(_ what: String, persistentLoad: @escaping (PickleValue) throws -> PickleValue = { pid in
            throw WeightsError(file: path, "unexpected persistent id \(pid.kind)")
        }) throws -> PickleValue {
            var u = Unpickler(UnsafeRawBufferPointer(rebasing: bytes[offset...]), file: path, baseOffset: offset, what: what,
                              persistentLoad: persistentLoad)
            let v = try u.load()
            offset += u.position
            arenas.append(u.arena)
            return v
        }
        guard case .bigInt(let magic) = try next("magic number pickle"), magic == legacyMagic else {
            throw WeightsError(file: path, "not a PyTorch legacy checkpoint: bad magic number")
        }
        guard case .int(let protocolVersion) = try next("protocol version pickle"), protocolVersion == 1001 else {
            throw WeightsError(file: path, "unsupported legacy checkpoint protocol version (expected 1001)")
        }
        _ = try next("system info pickle")  // storages are always written little-endian

        // The main pickle names each storage; remember the element type and count per key.
        var declared: [String: TorchStorageRef] = [:]
        let root = try next("main pickle") { pid in
            let value = try storageRef(pid, file: path, legacy: true)
            if case .storage(let ref) = value {
                let root = TorchStorageRef(key: ref.key, stored: ref.stored, count: ref.rootCount ?? ref.count, viewOffset: 0)
                if let earlier = declared[ref.key], earlier.stored != root.stored || earlier.count != root.count {
                    throw WeightsError(file: path, "storage \"\(ref.key)\" is declared with two different types or sizes")
                }
                declared[ref.key] = root
            }
            return value
        }
        guard let keys = try next("storage key list pickle").sequence else {
            throw WeightsError(file: path, "storage key list pickle is not a list")
        }
        var reader = ByteReader(bytes, file: path)
        reader.seek(to: offset)
        var regions: [String: UnsafeRawBufferPointer] = [:]
        for keyValue in keys {
            guard let key = keyValue.stringValue else { throw WeightsError(file: path, "storage key list contains a \(keyValue.kind)") }
            guard let ref = declared[key] else {
                throw WeightsError(file: path, "storage \"\(key)\" is listed but no tensor uses it, so its element size is unknown")
            }
            let count = try reader.read(Int64.self, "element count of storage \"\(key)\"")
            guard count == Int64(ref.count) else {
                throw WeightsError(file: path, "storage \"\(key)\" holds \(count) elements, the pickle says \(ref.count)")
            }
            regions[key] = try reader.take(ref.count * ref.stored.size, "data of storage \"\(key)\" (\(ref.count) elements)")
        }
        return try materialize(root, file: path, format: .pytorchLegacy, selecting: keyPath, bigEndian: false) { ref in
            guard let region = regions[ref.key] else {
                throw WeightsError(file: path, "storage \"\(ref.key)\" is used by a tensor but missing from the storage list")
            }
            return (region, file)
        }
    }

    /// Turns a persistent id `('storage', StorageType, key, location, numel[, view])` into a storage.
    static func storageRef(_ pid: PickleValue, file: String, legacy: Bool) throws -> PickleValue {
        guard let items = pid.sequence, items.count >= 5, items[0].stringValue == "storage" else {
            throw WeightsError(file: file, "unsupported persistent id (expected a ('storage', …) tuple, got \(pid.kind))")
        }
        guard case .global(.storageType(let stored, _)) = items[1] else {
            throw WeightsError(file: file, "persistent id names \(items[1].kind), not a storage type")
        }
        guard let key = items[2].stringValue, let count = items[4].intValue, count >= 0, count <= 1 << 55 else {
            throw WeightsError(file: file, "persistent id has a bad storage key or element count")
        }
        if legacy, items.count >= 6, let view = items[5].sequence {
            // Old storage views: (view_key, offset, view_size) inside root storage `key`.
            guard view.count == 3, let viewOffset = view[1].intValue, let viewCount = view[2].intValue,
                  viewOffset >= 0, viewCount >= 0, viewOffset <= count, viewCount <= count - viewOffset else {
                throw WeightsError(file: file, "storage \"\(key)\": view metadata lies outside its \(count) elements")
            }
            return .storage(TorchStorageRef(key: key, stored: stored, count: viewCount, viewOffset: viewOffset, rootCount: count))
        }
        return .storage(TorchStorageRef(key: key, stored: stored, count: count, viewOffset: 0))
    }

    /// Flattens `root` (or the sub-object at `keyPath`) and builds each tensor from its storage.
    static func materialize(_ root: PickleValue, file: String, format: TensorFileFormat, selecting keyPath: [String],
                            bigEndian: Bool,
                            storage: (TorchStorageRef) throws -> (bytes: UnsafeRawBufferPointer, owner: AnyObject)) throws -> TensorFileContents {
        var node = root
        for (i, key) in keyPath.enumerated() {
            guard case .dict(let d) = node else {
                throw WeightsError(file: file, "cannot select \"\(keyPath[...i].joined(separator: "/"))\": \(keyPath[..<i].joined(separator: "/")) is a \(node.kind), not a dict")
            }
            guard let v = d.value(forKey: key) else {
                let keys = d.items.compactMap { $0.key.stringValue }.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
                throw WeightsError(file: file, "checkpoint has no key \"\(key)\" to select (keys: \(keys))")
            }
            node = v
        }
        var walk = Walk()
        try flatten(node, prefix: "", depth: 0, file: file, walk: &walk)
        let found = walk.found, skipped = walk.skipped

        var seen = Set<String>()
        var tensors: [(name: String, tensor: Tensor)] = []
        var notes: [String] = []
        for (name, spec) in found {
            guard seen.insert(name).inserted else { throw WeightsError(file: file, "two tensors flatten to the name \"\(name)\"") }
            tensors.append((name, try build(spec, name: name, file: file, bigEndian: bigEndian, storage: storage)))
            if spec.stored == .float64 { notes.append("tensor \"\(name)\": float64 converted to float32") }
        }
        if !skipped.isEmpty {
            let shown = skipped.prefix(20).joined(separator: ", ")
            notes.append("skipped \(skipped.count) non-tensor value\(skipped.count == 1 ? "" : "s"): \(shown)\(skipped.count > 20 ? ", …" : "")")
        }
        return TensorFileContents(format: format, tensors: tensors, notes: notes)
    }

    /// State of one flattening pass.
    private struct Walk {
        var found: [(name: String, spec: TorchTensorSpec)] = []
        var skipped: [String] = []
        /// Containers already flattened: a container reached again (shared through the memo, or
        /// a cycle) is not walked twice, which keeps the walk linear in the pickle's size.
        var visited = Set<ObjectIdentifier>()
    }

    private static func flatten(_ value: PickleValue, prefix: String, depth: Int, file: String, walk: inout Walk) throws {
        guard depth <= 64 else { throw WeightsError(file: file, "checkpoint nests deeper than 64 levels at \"\(prefix)\"") }
        func join(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }
        func firstVisit(_ object: AnyObject) -> Bool {
            if walk.visited.insert(ObjectIdentifier(object)).inserted { return true }
            walk.skipped.append("\(prefix.isEmpty ? "<root>" : prefix) (a repeated reference to an earlier \(value.kind))")
            return false
        }
        switch value {
        case .tensor(let spec):
            walk.found.append((prefix, spec))
        case .dict(let d):
            guard firstVisit(d) else { return }
            for (k, v) in d.items {
                let key: String
                switch k {
                case .string(let s): key = s
                case .int(let i): key = String(i)
                default:
                    walk.skipped.append(join("<\(k.kind) key>"))
                    continue
                }
                try flatten(v, prefix: join(key), depth: depth + 1, file: file, walk: &walk)
            }
        case .list(let l), .tuple(let l):
            guard firstVisit(l) else { return }
            for (i, v) in l.items.enumerated() {
                try flatten(v, prefix: join(String(i)), depth: depth + 1, file: file, walk: &walk)
            }
        default:
            walk.skipped.append(prefix.isEmpty ? "<root \(value.kind)>" : "\(prefix) (\(value.kind))")
        }
    }

    /// Builds one tensor, checking that offset, size and stride stay inside the storage.
    private static func build(_ spec: TorchTensorSpec, name: String, file: String, bigEndian: Bool,
                              storage: (TorchStorageRef) throws -> (bytes: UnsafeRawBufferPointer, owner: AnyObject)) throws -> Tensor {
        let (all, owner) = try storage(spec.storage)
        let ref = spec.storage
        // The storage's own window (legacy views select part of the root storage).
        let begin = ref.viewOffset * ref.stored.size, end = begin + ref.count * ref.stored.size
        guard end <= all.count else {
            throw WeightsError(file: file, "tensor \"\(name)\": storage \"\(ref.key)\" window \(begin)..<\(end) exceeds its \(all.count) bytes")
        }
        let region = UnsafeRawBufferPointer(rebasing: all[begin..<end])
        let elementSize = spec.stored.size
        guard spec.sizes.count == spec.strides.count else {
            throw WeightsError(file: file, "tensor \"\(name)\": size \(spec.sizes) and stride \(spec.strides) differ in rank")
        }
        let count = try TensorDecoding.elementCount(spec.sizes, file: file, what: "tensor \"\(name)\"")
        guard let extent = TensorDecoding.stridedExtent(offset: spec.offset, sizes: spec.sizes, strides: spec.strides, elementSize: elementSize),
              extent.upperBound <= region.count else {
            throw WeightsError(file: file, "tensor \"\(name)\": offset \(spec.offset), size \(spec.sizes), stride \(spec.strides) lie outside storage \"\(ref.key)\" (\(region.count / Swift.max(elementSize, 1)) elements)")
        }
        if count == 0 {
            return TensorDecoding.tensor(from: UnsafeRawBufferPointer(start: nil, count: 0), owner: owner, shape: spec.sizes, stored: spec.stored)
        }
        if TensorDecoding.isDense(sizes: spec.sizes, strides: spec.strides) {
            let bytes = UnsafeRawBufferPointer(rebasing: region[extent.lowerBound..<(extent.lowerBound + count * elementSize)])
            return TensorDecoding.tensor(from: bytes, owner: owner, shape: spec.sizes, stored: spec.stored, bigEndian: bigEndian)
        }
        // Stride-0 (expanded) tensors can claim far more elements than their storage holds;
        // refuse to blow a small file up into a huge allocation.
        let denseBytes = count * elementSize
        guard denseBytes <= region.count || denseBytes <= maxExpandedBytes else {
            throw WeightsError(file: file, "tensor \"\(name)\": size \(spec.sizes) with stride \(spec.strides) expands \(region.count) storage bytes to \(denseBytes) bytes, over the \(maxExpandedBytes)-byte limit")
        }
        let dense = TensorDecoding.gather(region, offset: spec.offset, sizes: spec.sizes, strides: spec.strides, elementSize: elementSize)
        return TensorDecoding.tensor(from: dense.bytes, owner: dense, shape: spec.sizes, stored: spec.stored, bigEndian: bigEndian)
    }
}
