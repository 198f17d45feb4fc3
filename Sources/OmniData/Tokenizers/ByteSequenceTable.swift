#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A hash map from byte sequences to ids, for BPE ranks and WordPiece vocabularies.
///
/// Keys are raw bytes, not `String`s: Swift compares strings by canonical equivalence, so `"é"` and
/// `"e\u{301}"` would collide, while tokenizers treat them as different tokens. All keys live in one
/// byte buffer and the slots are open-addressed, so a 100k-entry vocabulary is a few flat arrays and
/// a lookup hashes the probe bytes once.
struct ByteSequenceTable: Sendable {
    /// Every key's bytes, back to back; key `e` is `storage[starts[e] ..< starts[e + 1]]`.
    private var storage: [UInt8] = []
    private var starts: [Int] = [0]
    private var values: [Int] = []
    /// Entry index per slot, -1 when empty; the count is a power of two.
    private var slots: [Int32]

    init(minimumCapacity: Int = 16) {
        var n = 16
        while n < minimumCapacity * 2 { n <<= 1 }
        slots = Array(repeating: -1, count: n)
        storage.reserveCapacity(minimumCapacity * 4)
        starts.reserveCapacity(minimumCapacity + 1)
        values.reserveCapacity(minimumCapacity)
    }

    var count: Int { values.count }

    /// The key and value of every entry, in insertion order.
    var entries: [(key: [UInt8], value: Int)] {
        (0 ..< values.count).map { (Array(storage[starts[$0] ..< starts[$0 + 1]]), values[$0]) }
    }

    /// Adds `key`; returns false (and changes nothing) when it is already present.
    @discardableResult
    mutating func insert(_ key: some Collection<UInt8>, value: Int) -> Bool {
        let bytes = Array(key)
        if bytes.withUnsafeBufferPointer({ self.value(for: $0) }) != nil { return false }
        if (values.count + 1) * 2 > slots.count { grow() }
        storage.append(contentsOf: bytes)
        starts.append(storage.count)
        values.append(value)
        place(values.count - 1)
        return true
    }

    /// The value stored for `key`, or nil.
    @inline(__always)
    func value(for key: UnsafeBufferPointer<UInt8>) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(key)) & mask
        return slots.withUnsafeBufferPointer { slots in
            storage.withUnsafeBufferPointer { storage in
                starts.withUnsafeBufferPointer { starts in
                    while true {
                        let e = Int(slots[slot])
                        if e < 0 { return nil }
                        let start = starts[e], length = starts[e + 1] - start
                        if length == key.count
                            && (length == 0 || memcmp(storage.baseAddress! + start, key.baseAddress!, length) == 0) {
                            return values[e]
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    func value(for key: [UInt8]) -> Int? { key.withUnsafeBufferPointer { value(for: $0) } }

    func value(for key: ArraySlice<UInt8>) -> Int? { key.withUnsafeBufferPointer { value(for: $0) } }

    /// FNV-1a over the bytes.
    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for e in 0 ..< values.count { place(e) }
    }

    private mutating func place(_ e: Int) {
        let mask = slots.count - 1
        let h = storage.withUnsafeBufferPointer {
            Self.hash(UnsafeBufferPointer(rebasing: $0[starts[e] ..< starts[e + 1]]))
        }
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(e)
    }
}
