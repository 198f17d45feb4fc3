import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

/// Misusing a layer stops with a message naming the shapes (exit tests: bodies cannot capture).
@Suite struct LayerMisuseTests {
    static func stderr(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func attentionInputOfTheWrongWidth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let attn = MultiHeadAttention(dimension: 8, heads: 2, generator: Generator(seed: 1))
            _ = attn(Tensor.zeros([2, 3, 5]))
        }
        #expect(Self.stderr(result).contains("MultiHeadAttention: input [2, 3, 5] must be [B, T, 8]"), "stderr: \(Self.stderr(result))")
    }

    @Test func cachedKeyPaddingMustCoverTheCachedKeys() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let attn = MultiHeadAttention(dimension: 8, heads: 2, isCausal: true, generator: Generator(seed: 1))
            let cache = KVCache()
            _ = attn(Tensor.zeros([2, 2, 8]), cache: cache)
            _ = attn(Tensor.zeros([2, 1, 8]), keyPadding: Tensor([true, true], shape: [2, 1]), cache: cache)
        }
        #expect(Self.stderr(result).contains("keyPadding must be a bool [B, Tk] = [2, 3]"), "stderr: \(Self.stderr(result))")
    }

    @Test func aCrossAttentionCacheCannotGrow() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let layer = TransformerDecoderLayer(dimension: 8, heads: 2, mlpHiddenSize: 8, generator: Generator(seed: 1))
            let caches = TransformerDecoderLayer.Caches()
            _ = layer(Tensor.zeros([1, 1, 8]), context: Tensor.zeros([1, 2, 8]), caches: caches)
            _ = layer.selfAttention(Tensor.zeros([1, 1, 8]), cache: caches.crossAttention)
        }
        #expect(Self.stderr(result).contains("KVCache: this cache holds a cross-attention context"), "stderr: \(Self.stderr(result))")
    }

    @Test func aCacheBelongsToOneBatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let attn = MultiHeadAttention(dimension: 8, heads: 2, isCausal: true, generator: Generator(seed: 1))
            let cache = KVCache()
            _ = attn(Tensor.zeros([2, 2, 8]), cache: cache)
            _ = attn(Tensor.zeros([1, 1, 8]), cache: cache)
        }
        #expect(Self.stderr(result).contains("KVCache: new keys [1, 2, 1, 4] do not continue the cached keys [2, 2, 2, 4]"),
                "stderr: \(Self.stderr(result))")
    }

    @Test func crossAttentionContextOfTheWrongWidth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let attn = MultiHeadAttention(dimension: 8, heads: 2, contextDimension: 6, generator: Generator(seed: 1))
            _ = attn(Tensor.zeros([2, 3, 8]), context: Tensor.zeros([2, 4, 5]))
        }
        #expect(Self.stderr(result).contains("[2, 4, 5]") && Self.stderr(result).contains("[8, 6]"), "stderr: \(Self.stderr(result))")
    }

    @Test func headsMustDivideTheDimension() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = MultiHeadAttention(dimension: 8, heads: 3, generator: Generator(seed: 1))
        }
        #expect(Self.stderr(result).contains("dimension 8 is not divisible by 3 heads"), "stderr: \(Self.stderr(result))")
    }

    @Test func convolutionGroupsMustDivideTheChannels() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Conv2d(4, 6, kernel: 3, groups: 4, generator: Generator(seed: 1))
        }
        #expect(Self.stderr(result).contains("Conv2d: channels 4 → 6 are not divisible by groups 4"), "stderr: \(Self.stderr(result))")
    }

    @Test func batchNormTrainingNeedsMoreThanOneValuePerChannel() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm(3)(Tensor.zeros([1, 3]))
        }
        #expect(Self.stderr(result).contains("training needs more than one value per channel, got input [1, 3]"), "stderr: \(Self.stderr(result))")
    }
}
