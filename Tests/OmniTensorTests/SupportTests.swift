import Testing
@testable import OmniTensor

@Suite struct SupportTests {
    @Test func gradientCheckOnMul() {
        let a = randomTensor([3, 4], seed: 1), b = randomTensor([4], seed: 2)
        checkGradients([a, b], "mul", op: { $0[0] * $0[1] },
                       reference: { Ref.broadcast($0[0], [3, 4], $0[1], [4], *) })
    }

    /// Misuse is a precondition failure (see docs/errors.md); the message names the shapes.
    @Test func misuseStopsWithShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("add: shapes [2, 3] and [4] cannot be broadcast together"), "stderr was: \(stderr)")
    }
}
