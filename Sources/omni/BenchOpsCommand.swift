// `omni bench ops`: bandwidth-bound operations against a memory copy of the same data.
import ArgumentParser
import COmniKernels
import Foundation
import OmniTensor

struct BenchOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Times add, GELU, softmax and layer norm against a memory copy of the same data.",
        discussion: """
            Each operation runs interleaved with a copy of the same number of floats (memcpy into a \
            buffer allocated and faulted in beforehand, split over the same threads in 4 pieces per \
            thread, as Omni's elementwise kernels split large work), and \
            both are turned into GB/s by counting the bytes read plus written: copy 8 B per element, \
            add 12, GELU 8, softmax 8 (rows of 1024), layer norm 8 (rows of 1024). Every operation \
            produces a new output, as in real use, so its allocation is part of its time. Layer norm \
            is Tensor.layerNorm over rows of 1024 with a weight and a bias. \
            Example: omni bench ops --size 16777216
            """)

    @Option(help: "Number of float32 elements (a multiple of 1024; default 16M).")
    var size: Int = 16 * 1024 * 1024
    @Option(help: "Threads (default: OMNI_NUM_THREADS, else the number of cores).")
    var threads: Int?
    @Option(help: "Timed runs of each operation and its copy (default: as many as take about 1.5 s each).")
    var runs: Int?
    @OptionGroup var global: GlobalOptions

    static let rowLength = 1024

    func validate() throws {
        if size <= 0 || size % Self.rowLength != 0 {
            throw ValidationError("--size must be a positive multiple of \(Self.rowLength), got \(size)")
        }
        if size > 1 << 30 { throw ValidationError("--size is too large: \(size) (at most \(1 << 30) floats)") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be a positive integer, got \(threads)") }
        if let runs, runs <= 0 { throw ValidationError("--runs must be a positive integer, got \(runs)") }
    }

    struct OpResult: Encodable {
        let op: String
        let bytes_per_element: Int
        let gbps: Double
        let copy_gbps: Double
        let ratio: Double
        let time: TimingSummary
        let copy_time: TimingSummary
    }

    struct Result: Encodable {
        let bench = "ops"
        let size: Int
        let threads: Int
        let ops: [OpResult]
        let copy = "memcpy into a pre-faulted buffer, 4 pieces per thread"
        let load_avg: Double
    }

    func run() throws {
        let log = try global.makeLogger("omni.bench.ops")
        let threadCount = applyThreads(threads)
        let n = size, rows = size / Self.rowLength
        log.info("preparing \(n) floats, \(threadCount) thread(s)")

        let g = Generator(seed: 1)
        let a = Tensor.normal([n], generator: g), b = Tensor.normal([n], generator: g)
        let aRows = a.reshaped([rows, Self.rowLength])

        // Raw buffers for the copy, written once so they are faulted in.
        let src = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let dst = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { src.deallocate(); dst.deallocate() }
        a.toArray().withUnsafeBufferPointer { src.initialize(from: $0.baseAddress!, count: n) }
        dst.initialize(repeating: 0, count: n)
        let gamma = Tensor.full([Self.rowLength], 1.5), beta = Tensor.full([Self.rowLength], 0.25)

        let copy = { parallelCopy(from: src, to: dst, count: n, threads: threadCount) }
        let layerNorm = { _ = aRows.layerNorm(normalizedShape: [Self.rowLength], weight: gamma, bias: beta) }
        let ops: [(name: String, bytes: Int, body: () -> Void)] = [
            ("add", 12, { _ = a + b }),
            ("gelu", 8, { _ = a.gelu() }),
            ("softmax", 8, { _ = aRows.softmax(axis: -1) }),
            ("layer_norm", 8, layerNorm),
        ]

        var results: [OpResult] = []
        for op in ops {
            log.debug("timing \(op.name)")
            let samples = measureInterleaved([op.body, copy], runs: runs)
            let t = TimingSummary(seconds: samples[0]), c = TimingSummary(seconds: samples[1])
            let gbps = Double(op.bytes * n) / t.medianSeconds / 1e9
            let copyGbps = Double(8 * n) / c.medianSeconds / 1e9
            results.append(OpResult(op: op.name, bytes_per_element: op.bytes, gbps: rounded(gbps, 2),
                                    copy_gbps: rounded(copyGbps, 2), ratio: rounded(gbps / copyGbps, 3),
                                    time: t, copy_time: c))
        }

        print("ops on \(n) float32 elements, \(threadCount) thread(s); copy = memcpy into a pre-faulted buffer, 4 pieces per thread on \(threadCount) thread(s)")
        var table = TextTable(["op", "B/elem", "median ms", "min ms", "max ms", "GB/s", "copy GB/s", "ratio"])
        for r in results {
            table.add([r.op, "\(r.bytes_per_element)", fixed(r.time.median_ms, 3), fixed(r.time.min_ms, 3),
                       fixed(r.time.max_ms, 3), fixed(r.gbps, 2), fixed(r.copy_gbps, 2), fixed(r.ratio, 3)])
        }
        print(table.render())
        print("load average: \(fixed(loadAverage()))")
        try printJSONLine(Result(size: n, threads: threadCount, ops: results, load_avg: loadAverage()))
    }
}

/// memcpy of `count` floats on the shared pool, split like Omni's elementwise kernels split large
/// work (4 pieces per thread, claimed dynamically), so both sides get the same scheduling.
private func parallelCopy(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int, threads: Int) {
    var job = CopyJob(src: src, dst: dst, count: count)
    let pieces = threads > 1 ? 4 * threads : 1
    withUnsafeMutablePointer(to: &job) { p in
        omni_parallel(Int32(pieces), { ctx, tid, parts in
            let job = ctx!.assumingMemoryBound(to: CopyJob.self).pointee
            let lo = job.count * Int(tid) / Int(parts), hi = job.count * (Int(tid) + 1) / Int(parts)
            memcpy(job.dst + lo, job.src + lo, (hi - lo) * 4)
        }, p)
    }
}

private struct CopyJob {
    let src: UnsafePointer<Float>
    let dst: UnsafeMutablePointer<Float>
    let count: Int
}
