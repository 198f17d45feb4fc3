// Hand-assembles pickle streams and legacy PyTorch checkpoints, so tests can produce exactly
// the malformed or lying inputs a reader must reject (and a valid twin to show it accepts them).

/// Bytes of a pickle, built opcode by opcode (protocol 2).
struct PickleBuilder {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func op(_ c: Character) { bytes.append(c.asciiValue!) }
    mutating func mark() { op("(") }
    mutating func tuple() { op("t") }
    mutating func stop() { op(".") }
    mutating func none() { op("N") }
    mutating func reduce() { op("R") }
    mutating func global(_ module: String, _ name: String) {
        op("c")
        bytes += Array("\(module)\n\(name)\n".utf8)
    }
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        op("X")
        bytes += le(UInt32(u.count)) + u
    }
    /// BININT for 32-bit values, LONG1 with 8 bytes otherwise.
    mutating func int(_ v: Int) {
        if let small = Int32(exactly: v) {
            op("J")
            bytes += le(UInt32(bitPattern: small))
        } else {
            bytes += [0x8A, 8] + le(UInt64(bitPattern: Int64(v)))
        }
    }
    mutating func ints(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        tuple()
    }
    mutating func emptyOrderedDict() {
        global("collections", "OrderedDict")
        op(")")
        reduce()
    }
}

func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v.littleEndian) { Array($0) }
}

/// One tensor of a hand-made legacy checkpoint.
struct LegacyTensor {
    var name: String
    var storageType = "FloatStorage"
    var key: String
    var storageCount: Int
    var offset = 0
    var size: [Int]
    var stride: [Int]
}

/// A legacy-format checkpoint (`_use_new_zipfile_serialization=False` layout): magic, protocol
/// version, system info, main pickle, storage keys, then count + data per storage.
func legacyCheckpoint(_ tensors: [LegacyTensor], storages: [(key: String, count: Int64, data: [UInt8])],
                      magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19],
                      extraGlobal: (String, String)? = nil) -> [UInt8] {
    var out: [UInt8] = []
    var m = PickleBuilder()
    m.raw([0x8A, UInt8(magic.count)] + magic)
    m.stop()
    out += m.bytes
    var v = PickleBuilder()
    v.raw([0x4D, 0xE9, 0x03])  // BININT2 1001
    v.stop()
    out += v.bytes
    var s = PickleBuilder()
    s.op("}")
    s.stop()
    out += s.bytes

    var p = PickleBuilder()
    p.emptyOrderedDict()
    p.mark()
    for t in tensors {
        p.string(t.name)
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.mark()
        p.string("storage")
        p.global("torch", t.storageType)
        p.string(t.key)
        p.string("cpu")
        p.int(t.storageCount)
        p.none()
        p.tuple()
        p.op("Q")  // BINPERSID
        p.int(t.offset)
        p.ints(t.size)
        p.ints(t.stride)
        p.raw([0x89])  // NEWFALSE
        p.emptyOrderedDict()
        p.tuple()
        p.reduce()
    }
    if let (module, name) = extraGlobal {
        p.string("payload")
        p.global(module, name)
        p.mark()
        p.string("echo never")
        p.tuple()
        p.reduce()
    }
    p.op("u")  // SETITEMS
    p.stop()
    out += p.bytes

    var k = PickleBuilder()
    k.mark()
    for st in storages { k.string(st.key) }
    k.op("l")
    k.stop()
    out += k.bytes
    for st in storages { out += le(st.count) + st.data }
    return out
}

/// Little-endian float32 bytes.
func floatBytes(_ values: [Float]) -> [UInt8] { values.flatMap { le($0.bitPattern) } }
