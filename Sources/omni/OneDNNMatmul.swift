// The raw oneDNN matmul primitive, called through the C API directly: the reference Omni's own
// matmul is measured against in the same run. Created once (excluded from timing) with plain
// row-major layouts; int8 is u8 × s8 → f32 with one output scale.
import CDNNL

final class OneDNNMatmul {
    enum Kind { case f32, bf16, int8 }

    private var engine: dnnl_engine_t?
    private var stream: dnnl_stream_t?
    private var primitive: dnnl_primitive_t?
    private var memories: [dnnl_memory_t?] = []
    private var args: [dnnl_exec_arg_t] = []

    /// A primitive computing dst [M, N] = src [M, K] × wei [K, N] on the given buffers (not owned;
    /// they must outlive this object).
    init(kind: Kind, m: Int, n: Int, k: Int, outputScale: Float = 1,
         src: UnsafeRawPointer, weights: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>) throws {
        func check(_ status: dnnl_status_t, _ what: String) throws {
            if status != dnnl_success { throw CLIError("oneDNN \(what) failed (status \(status.rawValue))") }
        }
        let (srcType, weiType): (dnnl_data_type_t, dnnl_data_type_t) =
            switch kind {
            case .f32: (dnnl_f32, dnnl_f32)
            case .bf16: (dnnl_bf16, dnnl_bf16)
            case .int8: (dnnl_u8, dnnl_s8)
            }
        try check(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine_create")
        try check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream_create")

        func desc(_ rows: Int, _ cols: Int, _ type: dnnl_data_type_t) throws -> dnnl_memory_desc_t {
            var md = dnnl_memory_desc_t()
            var dims = [Int64](repeating: 0, count: Int(DNNL_MAX_NDIMS))
            dims[0] = Int64(rows); dims[1] = Int64(cols)
            try check(dnnl_memory_desc_init_by_tag(&md, 2, dims, type, dnnl_ab), "memory_desc_init_by_tag")
            return md
        }
        var srcMD = try desc(m, k, srcType), weiMD = try desc(k, n, weiType), dstMD = try desc(m, n, dnnl_f32)
        var opDesc = dnnl_matmul_desc_t()
        try check(dnnl_matmul_desc_init(&opDesc, &srcMD, &weiMD, nil, &dstMD), "matmul_desc_init")
        var attr: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        if kind == .int8 {
            var scale = outputScale
            try check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale), "set_output_scales")
        }
        var pd: dnnl_primitive_desc_t?
        try check(dnnl_primitive_desc_create(&pd, &opDesc, attr, engine, nil), "primitive_desc_create (matmul)")
        defer { dnnl_primitive_desc_destroy(pd) }
        try check(dnnl_primitive_create(&primitive, pd), "primitive_create (matmul)")

        for (arg, md, pointer) in [(DNNL_ARG_SRC, srcMD, UnsafeMutableRawPointer(mutating: src)),
                                   (DNNL_ARG_WEIGHTS, weiMD, UnsafeMutableRawPointer(mutating: weights)),
                                   (DNNL_ARG_DST, dstMD, UnsafeMutableRawPointer(dst))] {
            var md = md
            var memory: dnnl_memory_t?
            try check(dnnl_memory_create(&memory, &md, engine, pointer), "memory_create")
            memories.append(memory)
            args.append(dnnl_exec_arg_t(arg: Int32(arg), memory: memory))
        }
    }

    /// The name of the implementation oneDNN picked (e.g. "brg:avx512_core").
    func implementationName() -> String {
        var pd: const_dnnl_primitive_desc_t?
        guard dnnl_primitive_get_primitive_desc(primitive, &pd) == dnnl_success else { return "?" }
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "?" }
        return String(cString: name)
    }

    /// Executes once and waits for completion.
    func run() throws {
        let status = args.withUnsafeBufferPointer { dnnl_primitive_execute(primitive, stream, Int32($0.count), $0.baseAddress) }
        guard status == dnnl_success, dnnl_stream_wait(stream) == dnnl_success else {
            throw CLIError("oneDNN matmul execute failed (status \(status.rawValue))")
        }
    }

    deinit {
        for memory in memories { dnnl_memory_destroy(memory) }
        if let primitive { dnnl_primitive_destroy(primitive) }
        if let stream { dnnl_stream_destroy(stream) }
        if let engine { dnnl_engine_destroy(engine) }
    }
}
