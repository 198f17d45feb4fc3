/// A safe interpreter for the subset of Python's pickle format (protocols 0–5) that PyTorch
/// checkpoints use.
///
/// It builds ``PickleValue``s and nothing else: `GLOBAL`/`STACK_GLOBAL` resolve only the names
/// in ``PickleGlobal`` (anything else, e.g. `os.system`, is refused by name), `REDUCE`/`NEWOBJ`
/// are interpreted for those names only, and opcodes that would instantiate arbitrary objects
/// (`INST`, `OBJ`, `EXT*`) are refused. Work and memory are bounded by the input: each opcode
/// consumes at least one byte and pushes at most one value, and every length is checked against
/// the bytes left before anything is read or allocated.
struct Unpickler {
    private var reader: ByteReader
    private var stack: [PickleValue] = []
    private var marks: [[PickleValue]] = []
    private var memo: [Int: PickleValue] = [:]
    /// Where the opcode being executed starts, for messages.
    private var opcodeOffset = 0
    /// Owns the containers; keep it alive while using the values ``load()`` returns.
    let arena = PickleArena()
    private let what: String
    private let persistentLoad: (PickleValue) throws -> PickleValue

    /// Unpickles from `bytes` (whose first byte is at `baseOffset` in the file, for messages).
    /// `persistentLoad` turns a persistent id (`BINPERSID`) into a value.
    init(_ bytes: UnsafeRawBufferPointer, file: String, baseOffset: Int = 0, what: String,
         persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        reader = ByteReader(bytes, file: file, baseOffset: baseOffset)
        self.what = what
        self.persistentLoad = persistentLoad
    }

    /// Bytes consumed so far (after ``load()``: the length of the pickle).
    var position: Int { reader.position }

    private var file: String { reader.file }

    private func fail(_ message: String, at opcodeOffset: Int) -> WeightsError {
        WeightsError(file: file, "\(what): \(message) (opcode at offset \(reader.baseOffset + opcodeOffset))")
    }

    /// Runs until `STOP` and returns the pickled value.
    mutating func load() throws -> PickleValue {
        while true {
            let at = reader.position
            opcodeOffset = at
            let op = try reader.u8("\(what) opcode (pickle ends without STOP)")
            switch op {
            case 0x80:  // PROTO
                let v = try reader.u8("\(what) protocol")
                guard v <= 5 else { throw fail("unsupported pickle protocol \(v)", at: at) }
            case 0x95:  // FRAME: framing is only a read-ahead hint
                _ = try reader.u64("\(what) frame length")
            case 0x2E:  // STOP
                guard marks.isEmpty else { throw fail("STOP inside an unclosed MARK", at: at) }
                let v = try pop()
                guard stack.isEmpty else { throw fail("STOP leaves \(stack.count) extra values on the stack", at: at) }
                return v
            case 0x28: marks.append(stack); stack = []                          // MARK
            case 0x7D: stack.append(.dict(arena.dict()))                        // EMPTY_DICT
            case 0x5D, 0x8F: stack.append(.list(arena.list()))                  // EMPTY_LIST, EMPTY_SET
            case 0x29: stack.append(.tuple(arena.list()))                       // EMPTY_TUPLE
            case 0x4E: stack.append(.none)                                      // NONE
            case 0x88: stack.append(.bool(true))                                // NEWTRUE
            case 0x89: stack.append(.bool(false))                               // NEWFALSE
            case 0x4B: stack.append(.int(Int(try reader.u8("\(what) BININT1"))))
            case 0x4D: stack.append(.int(Int(try reader.u16("\(what) BININT2"))))
            case 0x4A: stack.append(.int(Int(Int32(bitPattern: try reader.u32("\(what) BININT")))))
            case 0x8A, 0x8B:  // LONG1, LONG4
                let n = op == 0x8A ? Int(try reader.u8("\(what) LONG1")) : try length(UInt64(try reader.u32("\(what) LONG4")))
                stack.append(Unpickler.integer(Array(try reader.take(n, "\(what) long"))))
            case 0x49:  // INT (text); "00"/"01" are protocol 0 booleans
                let s = try line()
                if s == "00" || s == "01" { stack.append(.bool(s == "01")) }
                else if let v = Int(s) { stack.append(.int(v)) }
                else { throw fail("bad INT \"\(s.prefix(40))\"", at: at) }
            case 0x4C:  // LONG (text)
                var s = try line()
                if s.hasSuffix("L") { s.removeLast() }
                guard let v = Int(s) else { throw fail("LONG \"\(s.prefix(40))\" is not a supported integer", at: at) }
                stack.append(.int(v))
            case 0x47:  // BINFLOAT, big-endian
                stack.append(.float(Double(bitPattern: UInt64(bigEndian: UInt64(littleEndian: try reader.u64("\(what) BINFLOAT"))))))
            case 0x46:  // FLOAT (text)
                let s = try line()
                guard let v = Double(s) else { throw fail("bad FLOAT \"\(s.prefix(40))\"", at: at) }
                stack.append(.float(v))
            case 0x58: stack.append(.string(try text(try length(UInt64(try reader.u32("\(what) BINUNICODE"))))))
            case 0x8C: stack.append(.string(try text(Int(try reader.u8("\(what) SHORT_BINUNICODE")))))
            case 0x8D: stack.append(.string(try text(try length(try reader.u64("\(what) BINUNICODE8")))))
            case 0x54, 0x55:  // BINSTRING, SHORT_BINSTRING (Python 2 str): text if UTF-8, else latin-1
                let n = op == 0x55 ? Int(try reader.u8("\(what) SHORT_BINSTRING")) : try length(UInt64(try reader.u32("\(what) BINSTRING")))
                let b = try reader.take(n, "\(what) string")
                stack.append(.string(String(validating: b, as: UTF8.self) ?? String(b.map { Character(Unicode.Scalar($0)) })))
            case 0x42: stack.append(.bytes(Array(try reader.take(try length(UInt64(try reader.u32("\(what) BINBYTES"))), "\(what) bytes"))))
            case 0x43: stack.append(.bytes(Array(try reader.take(Int(try reader.u8("\(what) SHORT_BINBYTES")), "\(what) bytes"))))
            case 0x8E, 0x96:  // BINBYTES8, BYTEARRAY8
                stack.append(.bytes(Array(try reader.take(try length(try reader.u64("\(what) BINBYTES8")), "\(what) bytes"))))
            case 0x85: stack.append(.tuple(arena.list([try pop()])))            // TUPLE1
            case 0x86:                                                          // TUPLE2
                let b = try pop(), a = try pop()
                stack.append(.tuple(arena.list([a, b])))
            case 0x87:                                                          // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                stack.append(.tuple(arena.list([a, b, c])))
            case 0x74: stack.append(.tuple(arena.list(try popMark())))          // TUPLE
            case 0x6C: stack.append(.list(arena.list(try popMark())))           // LIST
            case 0x91: stack.append(.list(arena.list(try popMark())))           // FROZENSET
            case 0x64:  // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items", at: at) }
                let d = arena.dict()
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
                stack.append(.dict(d))
            case 0x61:  // APPEND
                let v = try pop()
                guard case .list(let l) = try top() else { throw fail("APPEND to a \(try top().kind)", at: at) }
                l.items.append(v)
            case 0x65, 0x90:  // APPENDS, ADDITEMS
                let items = try popMark()
                guard case .list(let l) = try top() else { throw fail("APPENDS to a \(try top().kind)", at: at) }
                l.items += items
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = try top() else { throw fail("SETITEM on a \(try top().kind)", at: at) }
                d.set(k, v)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items", at: at) }
                guard case .dict(let d) = try top() else { throw fail("SETITEMS on a \(try top().kind)", at: at) }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x71: memo[Int(try reader.u8("\(what) BINPUT"))] = try top()
            case 0x72: memo[Int(try reader.u32("\(what) LONG_BINPUT"))] = try top()
            case 0x94: memo[memo.count] = try top()                             // MEMOIZE
            case 0x70:  // PUT (text)
                let s = try line()
                guard let i = Int(s), i >= 0 else { throw fail("bad PUT index \"\(s.prefix(40))\"", at: at) }
                memo[i] = try top()
            case 0x68: stack.append(try memoGet(Int(try reader.u8("\(what) BINGET"))))
            case 0x6A: stack.append(try memoGet(Int(try reader.u32("\(what) LONG_BINGET"))))
            case 0x67:  // GET (text)
                let s = try line()
                guard let i = Int(s) else { throw fail("bad GET index \"\(s.prefix(40))\"", at: at) }
                stack.append(try memoGet(i))
            case 0x30: _ = try pop()                                            // POP
            case 0x31: _ = try popMark()                                        // POP_MARK
            case 0x32: stack.append(try top())                                  // DUP
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard let m = module.stringValue, let n = name.stringValue else {
                    throw fail("STACK_GLOBAL needs two strings", at: at)
                }
                stack.append(try global(m, n))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                guard case .tuple(let t) = args else { throw fail("REDUCE arguments are a \(args.kind), not a tuple", at: at) }
                stack.append(try call(callable, t.items, at: at))
            case 0x81:  // NEWOBJ
                let args = try pop(), cls = try pop()
                guard case .tuple(let t) = args else { throw fail("NEWOBJ arguments are a \(args.kind), not a tuple", at: at) }
                stack.append(try construct(cls, t.items, at: at))
            case 0x92:  // NEWOBJ_EX
                let kwargs = try pop(), args = try pop(), cls = try pop()
                guard case .tuple(let t) = args, case .dict(let k) = kwargs, k.items.isEmpty else {
                    throw fail("NEWOBJ_EX with keyword arguments is not supported", at: at)
                }
                stack.append(try construct(cls, t.items, at: at))
            case 0x62:  // BUILD: object state (e.g. an OrderedDict's _metadata) is data we do not need
                let state = try pop()
                switch try top() {
                case .dict, .tensor, .list: _ = state
                default: throw fail("BUILD on a \(try top().kind) is not supported", at: at)
                }
            case 0x51:  // BINPERSID
                let pid = try pop()
                stack.append(try persistentLoad(pid))
            case 0x50:
                throw fail("text persistent ids (PERSID) are not supported", at: at)
            case 0x69, 0x6F:
                throw fail("refusing opcode \(op == 0x69 ? "INST" : "OBJ"), which instantiates arbitrary classes", at: at)
            case 0x82, 0x83, 0x84:
                throw fail("refusing extension-registry opcode EXT\(op == 0x82 ? 1 : op == 0x83 ? 2 : 4)", at: at)
            case 0x97, 0x98:
                throw fail("out-of-band buffers (protocol 5) are not supported", at: at)
            default:
                throw fail("unknown or unsupported opcode 0x\(String(op, radix: 16, uppercase: true))", at: at)
            }
        }
    }

    // MARK: Stack, memo and argument helpers

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow", at: opcodeOffset) }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last else { throw fail("stack underflow", at: opcodeOffset) }
        return v
    }

    /// The items pushed since the last MARK (which is removed).
    private mutating func popMark() throws -> [PickleValue] {
        guard let outer = marks.popLast() else { throw fail("no MARK on the stack", at: opcodeOffset) }
        let items = stack
        stack = outer
        return items
    }

    /// A length argument, checked against the bytes left.
    private func length(_ n: UInt64) throws -> Int {
        guard n <= UInt64(reader.remaining) else {
            throw fail("length \(n) runs past the end of the pickle", at: opcodeOffset)
        }
        return Int(n)
    }

    private mutating func text(_ n: Int) throws -> String {
        let b = try reader.take(n, "\(what) string")
        guard let s = String(validating: b, as: UTF8.self) else { throw fail("string is not valid UTF-8", at: opcodeOffset) }
        return s
    }

    /// A newline-terminated argument of the text opcodes.
    private mutating func line() throws -> String {
        var bytes: [UInt8] = []
        while true {
            let c = try reader.u8("\(what) text argument")
            if c == 0x0A { break }
            bytes.append(c)
        }
        if bytes.last == 0x0D { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func memoGet(_ i: Int) throws -> PickleValue {
        guard let v = memo[i] else { throw fail("memo entry \(i) is not defined", at: opcodeOffset) }
        return v
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        guard let g = PickleGlobal(module: module, name: name) else {
            if module == "torch" || module == "torch.storage", name.hasSuffix("Storage") || PickleGlobal.unsupportedDTypes.contains(name) {
                throw fail("refusing global \(module).\(name): tensors of this element type are not supported (supported: float32, float64 → float32, float16, bfloat16, int64, int32, int8, uint8, bool)", at: opcodeOffset)
            }
            throw fail("refusing global \(module).\(name) (only PyTorch tensor and container types are allowed)", at: opcodeOffset)
        }
        return .global(g)
    }

    /// A little-endian two's-complement integer as `Int` when it fits, else as `bigInt`.
    static func integer(_ bytes: [UInt8]) -> PickleValue {
        if bytes.isEmpty { return .int(0) }
        let negative = bytes.last! & 0x80 != 0
        let fill: UInt8 = negative ? 0xFF : 0x00
        if bytes.count > 8 {
            let high = bytes[8...]
            let signOK = (bytes[7] & 0x80 != 0) == negative
            guard high.allSatisfy({ $0 == fill }), signOK else { return .bigInt(bytes) }
        }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(i < bytes.count ? bytes[i] : fill) << UInt64(8 * i) }
        return .int(Int(Int64(bitPattern: v)))
    }

    private func ints(_ v: PickleValue, _ what: String, at: Int) throws -> [Int] {
        guard let items = v.sequence else { throw fail("\(what) is a \(v.kind), expected a tuple of ints", at: at) }
        guard items.count <= TensorDecoding.maxRank else { throw fail("\(what) has \(items.count) entries", at: at) }
        return try items.map {
            guard let i = $0.intValue else { throw fail("\(what) contains a \($0.kind)", at: at) }
            return i
        }
    }

    /// Interprets `REDUCE` of an allow-listed callable.
    private func call(_ callable: PickleValue, _ args: [PickleValue], at: Int) throws -> PickleValue {
        guard case .global(let g) = callable else { throw fail("REDUCE on a \(callable.kind), which is not callable", at: at) }
        switch g {
        case .orderedDict:
            let d = arena.dict()
            if let first = args.first {
                guard let pairs = first.sequence else { throw fail("OrderedDict argument is a \(first.kind)", at: at) }
                for p in pairs {
                    guard let kv = p.sequence, kv.count == 2 else { throw fail("OrderedDict item is not a pair", at: at) }
                    d.set(kv[0], kv[1])
                }
            }
            return .dict(d)
        case .set, .frozenset:
            return .list(arena.list(args.first?.sequence ?? []))
        case .codecsEncode:
            guard args.count >= 1, let s = args[0].stringValue else { throw fail("_codecs.encode needs a string", at: at) }
            let encoding = args.count > 1 ? (args[1].stringValue ?? "") : "utf-8"
            if encoding == "latin1" || encoding == "latin-1" {
                var out: [UInt8] = []
                for u in s.unicodeScalars {
                    guard u.value <= 0xFF else { throw fail("_codecs.encode: character outside latin-1", at: at) }
                    out.append(UInt8(u.value))
                }
                return .bytes(out)
            }
            return .bytes(Array(s.utf8))
        case .rebuildTensor, .rebuildTensorV2, .rebuildTensorV3:
            let minimum = g == .rebuildTensor ? 4 : g == .rebuildTensorV2 ? 6 : 7
            guard args.count >= minimum else { throw fail("\(g.qualifiedName) needs \(minimum) arguments, got \(args.count)", at: at) }
            guard case .storage(let storage) = args[0] else { throw fail("\(g.qualifiedName): first argument is a \(args[0].kind), not a storage", at: at) }
            guard let offset = args[1].intValue else { throw fail("\(g.qualifiedName): storage offset is a \(args[1].kind)", at: at) }
            let sizes = try ints(args[2], "tensor size", at: at), strides = try ints(args[3], "tensor stride", at: at)
            var stored = storage.stored
            if g == .rebuildTensorV3 {
                guard case .global(.dtype(let d, _)) = args[6] else { throw fail("_rebuild_tensor_v3: dtype is a \(args[6].kind)", at: at) }
                stored = d
            }
            let metadataIndex = g == .rebuildTensorV3 ? 7 : 6
            if args.count > metadataIndex, case .dict(let m) = args[metadataIndex],
               m.items.contains(where: { if case .bool(true) = $0.value { return true } else { return false } }) {
                throw fail("tensors with conjugate/negative bits set are not supported", at: at)
            }
            return .tensor(TorchTensorSpec(storage: storage, stored: stored, offset: offset, sizes: sizes, strides: strides))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let data = args.first, case .tensor = data else { throw fail("\(g.qualifiedName) needs a tensor", at: at) }
            return data
        case .rebuildFromTypeV2:
            guard args.count >= 3, case .global(.tensorClass) = args[1], case .tuple(let inner) = args[2] else {
                throw fail("_rebuild_from_type_v2 is only supported for torch.Tensor and torch.nn.Parameter", at: at)
            }
            guard case .global(let f) = args[0], [.rebuildTensor, .rebuildTensorV2, .rebuildTensorV3, .rebuildParameter].contains(f) else {
                throw fail("_rebuild_from_type_v2 with function \(args[0].kind) is not supported", at: at)
            }
            return try call(args[0], inner.items, at: at)
        case .device:
            return .string(args.first?.stringValue ?? "cpu")
        case .tensorClass, .storageType, .dtype:
            throw fail("calling \(g.qualifiedName) is not supported", at: at)
        }
    }

    /// Interprets `NEWOBJ` of an allow-listed class.
    private func construct(_ cls: PickleValue, _ args: [PickleValue], at: Int) throws -> PickleValue {
        guard case .global(let g) = cls else { throw fail("NEWOBJ on a \(cls.kind)", at: at) }
        switch g {
        case .orderedDict, .set, .frozenset: return try call(cls, args, at: at)
        default: throw fail("constructing \(g.qualifiedName) is not supported", at: at)
        }
    }
}
