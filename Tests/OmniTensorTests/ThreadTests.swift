// The thread pool: `Threads.count` is honoured (by Omni's kernels and by oneDNN on any calling
// thread), and for a fixed thread count results are bit-for-bit identical across runs.
//
// OMNI_NUM_THREADS is read once, when the pool is first used, so it cannot be changed inside this
// process; it is not tested here (setting the variable in a running, multi-threaded test process
// would only fake it). Check it from a shell: `OMNI_NUM_THREADS=3 omni …` and `Threads.count`.
//
// The suite is serialized because the count is process-wide; other suites may run meanwhile, but
// they only read the count, and their results do not depend on it beyond the last bit.
import COmniKernels
import Foundation
import Testing
@testable import OmniTensor

/// The bit patterns of a float32 tensor's values, for exact comparisons (NaN-safe).
func bits(_ t: Tensor) -> [UInt32] { t.toArray().map(\.bitPattern) }

final class ResultBox<R>: @unchecked Sendable { var value: R? }

/// Runs `body` on a new thread (like a Swift task landing on a fresh pool thread) and waits.
func onNewThread<R>(_ body: @escaping @Sendable () -> R) -> R {
    let box = ResultBox<R>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread { box.value = body(); done.signal() }
    thread.start()
    done.wait()
    return box.value!
}

@Suite(.serialized) struct ThreadTests {
    /// Thread counts compared with the single-threaded result (more than this machine's cores is fine).
    static let counts = [2, 4]

    @Test func countHonoursAssignment() {
        let saved = Threads.count
        defer { Threads.count = saved }
        #expect(saved >= 1)
        for n in [1, 3, 8, 2] {
            Threads.count = n
            #expect(Threads.count == n)
            #expect(onNewThread { Threads.count } == n, "the count is process-wide")
        }
        Threads.count = 0
        #expect(Threads.count == 1, "counts below 1 are clamped to 1")
        Threads.count = -4
        #expect(Threads.count == 1)
    }

    /// oneDNN takes its thread count from the OpenMP setting of the thread that calls it; Omni
    /// sets it to `Threads.count` on every thread that runs a matmul, not just the one that assigned it.
    @Test func oneDNNUsesTheCountOnEveryThread() {
        let saved = Threads.count
        defer { Threads.count = saved }
        let a = randomTensor([8, 16], seed: 1), b = randomTensor([16, 8], seed: 2)
        for n in [ProcessInfo.processInfo.activeProcessorCount + 1, 1] {
            Threads.count = n
            let seen = onNewThread { () -> Int in
                _ = a.matmul(b)
                return Int(omni_omp_threads_here())
            }
            #expect(seen == n, "oneDNN ran with \(seen) threads on a new thread; Threads.count is \(n)")
        }
    }

    /// Elementwise kernels (strided, broadcast, odd sizes so chunks split rows): identical bits on
    /// every run and for every thread count, and equal to the Float64 reference for the exact ones.
    @Test func elementwiseIsBitReproducible() {
        let saved = Threads.count
        defer { Threads.count = saved }
        let x = randomTensor([301, 499], seed: 3), y = randomTensor([499, 301], seed: 4), row = randomTensor([499], seed: 5)
        let z = randomTensor([37, 61, 53], seed: 6)
        #expect(x.count > 100_000 && z.count > 100_000)
        func run() -> [[UInt32]] {
            let yt = y.transposed()                       // strided operand
            let e = ((x * yt + x.exp()) / (yt.abs() + 1)).tanh() + row
            let copy = yt.contiguous()
            let flipped = x.flipped(axes: [1]).sliced(axis: 0, step: 2).contiguous()
            let cast = yt.converted(to: .bfloat16).converted(to: .float32)
            let permuted3 = z.permuted([2, 0, 1]).contiguous()   // chunks start mid-row in 3-D
            return [bits(e), bits(copy), bits(flipped), bits(cast), bits(permuted3)]
        }
        Threads.count = 1
        let reference = run()
        // the pure copies are exact: check them against index arithmetic once
        let (xv, yv) = (values(x), values(y))
        #expect(reference[1] == (0..<(301 * 499)).map { Float(yv[($0 % 499) * 301 + $0 / 499]).bitPattern }, "transposed copy")
        #expect(reference[2] == (0..<(151 * 499)).map { Float(xv[($0 / 499) * 2 * 499 + 498 - $0 % 499]).bitPattern }, "flipped strided copy")
        let zv = values(z)
        let want3 = (0..<z.count).map { f -> UInt32 in
            let o = Ref.index(f, [53, 37, 61])
            return Float(zv[Ref.flat([o[1], o[2], o[0]], [37, 61, 53])]).bitPattern
        }
        #expect(reference[4] == want3, "3-D permuted copy")
        for n in ThreadTests.counts {
            Threads.count = n
            for attempt in 0..<2 {
                let r = run()
                for (k, name) in ["arithmetic", "transposed copy", "flipped copy", "bf16 round trip", "3-D permuted copy"].enumerated() {
                    #expect(r[k] == reference[k], "\(name): \(n) threads, run \(attempt) differs from 1 thread")
                }
            }
        }
    }

    /// Reductions never split one output's sum across threads, so they too are identical for every
    /// thread count; and they agree with a Float64 reference.
    @Test func reductionsAreBitReproducible() {
        let saved = Threads.count
        defer { Threads.count = saved }
        let x = randomTensor([257, 613], seed: 6)
        #expect(x.count > 100_000)
        func run() -> [[UInt32]] {
            [bits(x.sum(axis: 0)), bits(x.sum(axis: 1)), bits(x.sum()), bits(x.max(axis: 0)), bits(x.transposed().sum(axis: 1)),
             bits(x.softmax(axis: 1)), bits(x.logsumexp(axis: 0)), bits(x.mean(axes: [0, 1]))]
        }
        Threads.count = 1
        let reference = run()
        let xv = values(x)
        let col = (0..<613).map { j in (0..<257).reduce(0.0) { $0 + xv[$1 * 613 + j] } }
        expectClose(x.sum(axis: 0), col, atol: 1e-4, rtol: 1e-5, "column sums")
        expectClose(x.sum(), [xv.reduce(0, +)], atol: 1e-2, rtol: 1e-5, "total")
        for n in ThreadTests.counts {
            Threads.count = n
            for attempt in 0..<2 {
                let r = run()
                for k in r.indices { #expect(r[k] == reference[k], "reduction \(k): \(n) threads, run \(attempt) differs from 1 thread") }
            }
        }
    }

    /// oneDNN's matmul may split work differently for different thread counts, but for a fixed
    /// count every run gives the same bits (forward and backward).
    @Test func matmulIsBitReproducibleForAFixedCount() {
        let saved = Threads.count
        defer { Threads.count = saved }
        let a = randomTensor([160, 700], seed: 7), b = randomTensor([700, 200], seed: 8)
        #expect(a.count > 100_000)
        let ref = Ref.matmul(values(a), values(b), m: 160, k: 700, n: 200)
        for n in ThreadTests.counts {
            Threads.count = n
            @Sendable func run() -> [[UInt32]] {
                let (value, grads) = valueAndGrad([a, b]) { p in p[0].matmul(p[1]).square().sum() }
                return [bits(a.matmul(b)), bits(a.transposed().transposed().matmul(b.transposed().contiguous().transposed())),
                        bits(value), bits(grads[0]), bits(grads[1])]
            }
            let first = run()
            expectClose(a.matmul(b), ref, atol: 1e-3, rtol: 1e-4, "matmul with \(n) threads")
            for attempt in 0..<2 {
                let again = onNewThread { run() }   // also from another thread
                for k in first.indices { #expect(again[k] == first[k], "matmul output \(k): \(n) threads, run \(attempt) differs") }
            }
        }
    }
}
