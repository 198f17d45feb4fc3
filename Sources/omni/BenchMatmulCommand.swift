// `omni bench matmul`: Omni's matmul against the raw oneDNN primitive on the same shape.
import ArgumentParser
import COmniKernels
import Foundation
import OmniTensor

/// The element types the matmul benchmark covers.
enum MatmulDType: String, ExpressibleByArgument, CaseIterable {
    case f32, bf16, int8
}

struct BenchMatmulCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul",
        abstract: "Times Omni's matmul and the raw oneDNN matmul primitive on the same [M, K] x [K, N] shape.",
        discussion: """
            f32 and bf16 time Tensor.matmul (bf16 × bf16 → f32); int8 times Tensor.quantizedMatmul \
            on operands quantized beforehand (uint8 activations with a zero point, int8 weights with \
            per-column scales). The reference is oneDNN's matmul primitive created once through the \
            C API with plain row-major layouts (int8: u8 × s8 → f32 with one output scale). \
            Example: omni bench matmul --m 1024 --n 1024 --k 1024 --dtype f32 --threads 1
            """)

    @Option(help: "Rows of the left operand and of the result.")
    var m: Int = 1024
    @Option(help: "Columns of the right operand and of the result.")
    var n: Int = 1024
    @Option(help: "The shared (inner) dimension.")
    var k: Int = 1024
    @Option(help: "Element type: f32, bf16 or int8.")
    var dtype: MatmulDType = .f32
    @Option(help: "Threads for Omni and oneDNN (default: OMNI_NUM_THREADS, else the number of cores).")
    var threads: Int?
    @Option(help: "Timed runs of each side (default: as many as take about 1.5 s each).")
    var runs: Int?
    @Option(help: "Seed of the random operands.")
    var seed: UInt64 = 1
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        for (name, value) in [("--m", m), ("--n", n), ("--k", k)] where value <= 0 {
            throw ValidationError("\(name) must be a positive integer, got \(value)")
        }
        for (name, value) in [("--m", m), ("--n", n), ("--k", k)] where value > 1 << 20 {
            throw ValidationError("\(name) is too large: \(value) (at most \(1 << 20))")
        }
        if m * k + k * n + m * n > 1 << 30 {
            throw ValidationError("--m/--n/--k: \(m)x\(k) x \(k)x\(n) needs more than 4 GiB of float operands")
        }
        if let threads, threads <= 0 { throw ValidationError("--threads must be a positive integer, got \(threads)") }
        if let runs, runs <= 0 { throw ValidationError("--runs must be a positive integer, got \(runs)") }
    }

    struct Result: Encodable {
        let bench = "matmul"
        let m: Int, n: Int, k: Int
        let dtype: String
        let threads: Int
        let omni_gflops: Double
        let onednn_gflops: Double
        let ratio: Double
        let omni: TimingSummary
        let onednn: TimingSummary
        let onednn_impl: String
        let isa: String
        let max_rel_diff: Double
        let load_avg: Double
        /// bf16/int8 only: Omni's float32 matmul on the same shape, timed in the same interleaved loop.
        let omni_f32_gflops: Double?
        let speedup_vs_f32: Double?
        let omni_f32: TimingSummary?
    }

    func run() throws {
        let log = try global.makeLogger("omni.bench.matmul")
        let threadCount = applyThreads(threads)
        let (M, N, K) = (m, n, k)
        log.info("preparing \(dtype) operands [\(M), \(K)] x [\(K), \(N)], \(threadCount) thread(s)")

        let g = Generator(seed: seed)
        let a = Tensor.normal([M, K], generator: g)
        let b = Tensor.normal([K, N], std: 1 / Float(K).squareRoot(), generator: g)

        // Raw buffers for the reference (Tensor storage is internal to the library).
        let rawDst = UnsafeMutableRawPointer.allocate(byteCount: M * N * 4, alignment: 64).assumingMemoryBound(to: Float.self)
        rawDst.initialize(repeating: 0, count: M * N)
        defer { rawDst.deallocate() }
        var keepAlive: [UnsafeMutableRawPointer] = []
        defer { keepAlive.forEach { $0.deallocate() } }
        func buffer<T>(_ values: [T]) -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(values.count * MemoryLayout<T>.stride, 1), alignment: 64)
            values.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            keepAlive.append(p)
            return p
        }
        func bf16Buffer(_ values: [Float]) -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: values.count * 2, alignment: 64)
            values.withUnsafeBufferPointer { omni_cast(Int32(OMNI_F32), $0.baseAddress, Int32(OMNI_BF16), p, Int64(values.count)) }
            keepAlive.append(p)
            return p
        }

        let omniBody: () -> Tensor
        let reference: OneDNNMatmul
        let expected: () -> [Float]   // what Omni's output is checked against
        switch dtype {
        case .f32:
            omniBody = { a.matmul(b) }
            reference = try OneDNNMatmul(kind: .f32, m: M, n: N, k: K, src: buffer(a.toArray()),
                                         weights: buffer(b.toArray()), dst: rawDst)
            expected = { Array(UnsafeBufferPointer(start: rawDst, count: M * N)) }
        case .bf16:
            let a16 = a.converted(to: .bfloat16), b16 = b.converted(to: .bfloat16)
            omniBody = { a16.matmul(b16) }
            reference = try OneDNNMatmul(kind: .bf16, m: M, n: N, k: K, src: bf16Buffer(a.toArray()),
                                         weights: bf16Buffer(b.toArray()), dst: rawDst)
            expected = { Array(UnsafeBufferPointer(start: rawDst, count: M * N)) }
        case .int8:
            guard Tensor.int8IsAccelerated else {
                throw CLIError("--dtype int8: oneDNN's int8 kernels are not exact on this CPU (oneDNN dispatches to \(String(cString: omni_dnnl_isa_name())), without VNNI); Omni uses its reference kernel there, so there is nothing to compare")
            }
            let qa = QuantizedTensor.quantizeActivations(a), qb = QuantizedTensor.quantizeWeights(b)
            omniBody = { Tensor.quantizedMatmul(qa, qb) }
            let u8 = qa.values.toIntArray().map { UInt8($0) }, s8 = qb.values.toIntArray().map { Int8($0) }
            reference = try OneDNNMatmul(kind: .int8, m: M, n: N, k: K, outputScale: qa.scales[0] * qb.scales[0],
                                         src: buffer(u8), weights: buffer(s8), dst: rawDst)
            // Omni's result must equal the float product of the dequantized operands.
            expected = { qa.dequantized().matmul(qb.dequantized()).toArray() }
        }

        // Correctness first (also the first warm-up of both sides).
        try reference.run()
        let got = omniBody().toArray()
        let want = expected()
        let scale = want.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
        var worst: Float = 0
        for i in got.indices { worst = Swift.max(worst, Swift.abs(got[i] - want[i])) }
        let relDiff = Double(worst / Swift.max(scale, .leastNormalMagnitude))
        let tolerance = dtype == .bf16 ? 1e-2 : 1e-4
        log.debug("max relative difference \(relDiff) (tolerance \(tolerance))")

        var referenceError: Error?
        var bodies: [() -> Void] = [
            { _ = omniBody() },
            { do { try reference.run() } catch { referenceError = error } },
        ]
        // For bf16/int8, Omni's float32 matmul runs in the same loop, so the speed-up over f32
        // is measured under the same load.
        if dtype != .f32 { bodies.append { _ = a.matmul(b) } }
        let samples = measureInterleaved(bodies, runs: runs)
        if let referenceError { throw referenceError }

        let omni = TimingSummary(seconds: samples[0]), ref = TimingSummary(seconds: samples[1])
        let f32 = dtype == .f32 ? nil : TimingSummary(seconds: samples[2])
        let flops = 2.0 * Double(M) * Double(N) * Double(K)
        let omniGF = flops / omni.medianSeconds / 1e9, refGF = flops / ref.medianSeconds / 1e9
        let f32GF = f32.map { flops / $0.medianSeconds / 1e9 }
        let impl = reference.implementationName()
        let isa = String(cString: omni_dnnl_isa_name())

        print("matmul [\(M), \(K)] x [\(K), \(N)]  dtype \(dtype)  threads \(threadCount)  runs \(omni.runs)  isa \(isa)  oneDNN impl \(impl)")
        var table = TextTable(["", "median ms", "min ms", "max ms", "GFLOP/s"])
        table.add(["omni", fixed(omni.median_ms, 3), fixed(omni.min_ms, 3), fixed(omni.max_ms, 3), fixed(omniGF, 1)])
        table.add(["oneDNN", fixed(ref.median_ms, 3), fixed(ref.min_ms, 3), fixed(ref.max_ms, 3), fixed(refGF, 1)])
        if let f32, let f32GF {
            table.add(["omni f32", fixed(f32.median_ms, 3), fixed(f32.min_ms, 3), fixed(f32.max_ms, 3), fixed(f32GF, 1)])
        }
        print(table.render())
        var summary = "ratio omni/oneDNN: \(fixed(omniGF / refGF, 3))"
        if let f32GF { summary += "   \(dtype) speed-up over omni f32: \(fixed(omniGF / f32GF, 2))x" }
        print(summary + "   max relative difference: \(String(format: "%.2e", relDiff))   load average: \(fixed(loadAverage()))")
        try printJSONLine(Result(m: M, n: N, k: K, dtype: dtype.rawValue, threads: threadCount,
                                 omni_gflops: rounded(omniGF, 2), onednn_gflops: rounded(refGF, 2),
                                 ratio: rounded(omniGF / refGF, 4), omni: omni, onednn: ref, onednn_impl: impl,
                                 isa: isa, max_rel_diff: relDiff, load_avg: loadAverage(),
                                 omni_f32_gflops: f32GF.map { rounded($0, 2) },
                                 speedup_vs_f32: f32GF.map { rounded(omniGF / $0, 3) }, omni_f32: f32))
        guard relDiff <= tolerance else {
            throw CLIError("matmul \(dtype): Omni's result differs from the reference by \(relDiff) (relative to the largest value), more than \(tolerance)")
        }
    }
}
