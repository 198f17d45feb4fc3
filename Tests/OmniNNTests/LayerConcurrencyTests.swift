import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

/// Counts results that differ from the serial ones, from many threads.
private final class Mismatches: @unchecked Sendable {
    private let lock = NSLock()
    private var found: [String: Int] = [:]
    func record(_ what: String) { lock.lock(); found[what, default: 0] += 1; lock.unlock() }
    var summary: [String: Int] { lock.lock(); defer { lock.unlock() }; return found }
}

/// Layers (and the oneDNN primitives behind them, which are cached and shared by every thread)
/// give bit-identical results when run from many threads at once.
@Suite struct LayerConcurrencyTests {
    @Test func concurrentForwardsMatchSerialOnesBitForBit() {
        let layers: [Module] = [
            TransformerEncoderLayer(dimension: 8, heads: 2, mlpHiddenSize: 12, generator: Generator(seed: 1)),
            TransformerEncoderLayer(dimension: 8, heads: 2, mlpHiddenSize: 12, placement: .post, norm: .rms,
                                    rotary: RotaryEmbedding(dimension: 4), isCausal: true, generator: Generator(seed: 2)),
            TransformerDecoderLayer(dimension: 8, heads: 2, mlpHiddenSize: 12, contextDimension: 6, generator: Generator(seed: 3)),
            Conv2d(3, 4, kernel: 3, padding: 1, generator: Generator(seed: 4)),
        ]
        let x = randomTensor([2, 3, 8], seed: 5), context = randomTensor([2, 4, 6], seed: 6)
        let image = randomTensor([2, 3, 5, 5], seed: 7)
        let q = randomTensor([2, 2, 5, 4], seed: 8), k = randomTensor([2, 2, 6, 4], seed: 9)
        @Sendable func run(_ i: Int) -> [Float] {
            switch i {
            case 0, 1: return (layers[i] as! TransformerEncoderLayer)(x).output.toArray()
            case 2: return (layers[i] as! TransformerDecoderLayer)(x, context: context).output.toArray()
            case 3: return (layers[i] as! Conv2d)(image).toArray()
            default: return q.matmul(k.transposed()).toArray()   // batched, transposed operand
            }
        }
        let cases = 5
        let serial = (0..<cases).map(run)
        let mismatches = Mismatches()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for step in 0..<60 {
                let i = (thread + step) % cases
                if run(i) != serial[i] { mismatches.record("case \(i)") }
            }
        }
        #expect(mismatches.summary.isEmpty, "results that differ from the serial ones: \(mismatches.summary)")
    }
}
