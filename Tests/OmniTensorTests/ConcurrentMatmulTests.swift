import Testing
@testable import OmniTensor

/// oneDNN primitives are cached and shared by all threads. Created with oneDNN's default
/// (library-managed) scratchpad, primitives made on one thread shared that thread's scratch
/// buffer, so two threads multiplying matrices of the same shape at once corrupted each other's
/// results now and then (about one product in a hundred for these shapes).
@Suite struct ConcurrentMatmulTests {
    @Test func concurrentProductsOfOneShapeAreExact() async {
        let a = randomTensor([2, 4, 3, 4], seed: 1), b = randomTensor([2, 4, 4, 3], seed: 2)
        let expected = a.matmul(b)
        var reference = [Double](repeating: 0, count: 72)
        let (av, bv) = (values(a), values(b))
        for batch in 0..<8 {
            let c = Ref.matmul(Array(av[(batch * 12)..<((batch + 1) * 12)]), Array(bv[(batch * 12)..<((batch + 1) * 12)]), m: 3, k: 4, n: 3)
            for i in 0..<9 { reference[batch * 9 + i] = c[i] }
        }
        expectClose(expected, reference, shape: [2, 4, 3, 3], "serial product")
        let bits = expected.toArray().map(\.bitPattern)
        let wrong = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    (0..<1500).reduce(0) { n, _ in n + (a.matmul(b).toArray().map(\.bitPattern) == bits ? 0 : 1) }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(wrong == 0, "\(wrong) of 3000 concurrent products differ from the serial one")
    }
}
