// The shared pool runs every task exactly once, also when tasks outnumber threads (they are
// claimed dynamically), and elementwise results do not depend on the thread count.
import COmniKernels
import Testing
@testable import OmniTensor

@Suite struct ThreadsTests {
    @Test(arguments: [1, 2, 3, 37, 200])
    func everyTaskRunsOnce(tasks: Int) {
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * tasks)
        slots.initialize(repeating: 0, count: 2 * tasks)
        defer { slots.deallocate() }
        omni_parallel(Int32(tasks), { ctx, tid, n in
            let s = ctx!.assumingMemoryBound(to: Int32.self)
            s[Int(tid)] += 1          // each task owns its slot: no race
            s[Int(n) + Int(tid)] = n  // and sees the task count
        }, slots)
        let runs = (0..<tasks).map { slots[$0] }, seen = (0..<tasks).map { slots[tasks + $0] }
        #expect(runs.allSatisfy { $0 == 1 }, "run counts per task: \(runs)")
        #expect(seen.allSatisfy { $0 == Int32(tasks) }, "task counts seen: \(seen)")
    }

    /// Large elementwise work is split into more tasks than threads; values must not change.
    @Test func elementwiseResultsDoNotDependOnTheSplit() {
        let n = 4 * 4 * 32768 * 2 + 123  // large enough for 4 tasks per thread with 2 threads
        let a = Tensor.uniform([n], low: -3, high: 3, generator: Generator(seed: 5))
        let b = Tensor.uniform([n], low: -3, high: 3, generator: Generator(seed: 6))
        let (av, bv) = (a.toArray(), b.toArray())
        let sum = (a + b).toArray(), gelu = a.gelu().toArray()
        let firstWrong = (0..<n).first { sum[$0] != av[$0] + bv[$0] }
        #expect(firstWrong == nil, "add differs at \(firstWrong ?? -1)")
        var worst = 0.0, worstAt = -1
        for i in 0..<n {
            let x = Double(av[i])
            let d = Swift.abs(Double(gelu[i]) - 0.5 * x * erfc(-x / 2.0.squareRoot()))
            if d > worst { worst = d; worstAt = i }
        }
        #expect(worst < 1e-6, "GELU largest difference from the Float64 reference: \(worst) at \(worstAt)")
    }
}
import Foundation
