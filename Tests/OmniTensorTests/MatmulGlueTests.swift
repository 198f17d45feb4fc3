// The oneDNN matmul glue: batch-1 products (2-D descriptors), batched ones (3-D), strided and
// transposed operands, bias, bf16, and int8 with a bias (which oneDNN would otherwise scale).
import Testing
@testable import OmniTensor

@Suite struct MatmulGlueTests {
    /// Float64 reference of a [M, K] · [K, N] product, both in C order.
    static func product(_ a: [Double], _ b: [Double], _ M: Int, _ N: Int, _ K: Int) -> [Double] {
        var c = [Double](repeating: 0, count: M * N)
        for i in 0..<M {
            for j in 0..<N {
                var s = 0.0
                for k in 0..<K { s += a[i * K + k] * b[k * N + j] }
                c[i * N + j] = s
            }
        }
        return c
    }

    @Test(arguments: testSeeds)
    func batchOneAndBatched(seed: UInt64) {
        let a = randomTensor([5, 7], seed: seed), b = randomTensor([7, 3], seed: seed + 10)
        let want = Self.product(values(a), values(b), 5, 3, 7)
        expectClose(a.matmul(b), want, shape: [5, 3], "plain")
        expectClose(nonContiguous(a).matmul(nonContiguous(b)), want, shape: [5, 3], "strided")
        let w = randomTensor([3, 7], seed: seed + 20)  // [out, in]
        let bias = randomTensor([3], seed: seed + 30)
        let wt = values(w.transposed().contiguous())
        let lin = Self.product(values(a), wt, 5, 3, 7).enumerated().map { $0.element + values(bias)[$0.offset % 3] }
        expectClose(a.linear(weight: w, bias: bias), lin, shape: [5, 3], "linear with bias (transposed weight)")
        let batched = randomTensor([2, 5, 7], seed: seed + 40)
        let bv = values(batched)
        let wantBatched = (0..<2).flatMap { i in Self.product(Array(bv[(i * 35)..<((i + 1) * 35)]), values(b), 5, 3, 7) }
        expectClose(batched.matmul(b), wantBatched, shape: [2, 5, 3], "batched, broadcast weight")
        let a16 = a.converted(to: .bfloat16), b16 = b.converted(to: .bfloat16)
        expectClose(a16.matmul(b16), Self.product(values(a16.converted(to: .float32)), values(b16.converted(to: .float32)), 5, 3, 7),
                    shape: [5, 3], "bf16")
    }

    /// oneDNN 2.x adds an int8 bias before the output scale; Omni's bias is a float added after it.
    @Test(arguments: testSeeds)
    func int8WithBiasAndColumnScales(seed: UInt64) {
        let a = randomTensor([6, 9], seed: seed), b = randomTensor([9, 4], seed: seed + 10)
        let bias = randomTensor([4], seed: seed + 20, low: 1, high: 3)
        let qa = QuantizedTensor.quantizeActivations(a), qb = QuantizedTensor.quantizeWeights(b)
        #expect(qb.scales.count == 4)
        let exact = Self.product(values(qa.dequantized()), values(qb.dequantized()), 6, 4, 9)
        expectClose(Tensor.quantizedMatmul(qa, qb), exact, shape: [6, 4], "int8")
        expectClose(Tensor.quantizedMatmul(qa, qb, bias: bias), exact.enumerated().map { $0.element + values(bias)[$0.offset % 4] },
                    shape: [6, 4], "int8 with bias")
    }
}
