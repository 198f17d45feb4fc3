import Foundation
import Testing
@testable import OmniData

/// Padding, truncation and batches, with a small WordPiece vocabulary so every id is derived by hand:
/// "unaffable" → [7, 8, 6], "ab" → [9, 10], "!" → [11]; [CLS] = 1, [SEP] = 2.
@Suite struct EncodingOptionsTests {
    static let bert = WordPieceTokenizer(vocabulary: BertAlgorithmTests.vocabulary, prefixTokens: [1], suffixTokens: [2])

    @Test func batchPadsToTheLongest() {
        let batch = Self.bert.encodeBatch(["ab", "unaffable ab !", "!"], options: EncodingOptions(padding: Padding(.longest, padID: 3)))
        #expect(batch.ids == [[1, 9, 10, 2, 3, 3, 3, 3],
                              [1, 7, 8, 6, 9, 10, 11, 2],
                              [1, 11, 2, 3, 3, 3, 3, 3]])
        #expect(batch.attentionMask == [[1, 1, 1, 1, 0, 0, 0, 0],
                                        [1, 1, 1, 1, 1, 1, 1, 1],
                                        [1, 1, 1, 0, 0, 0, 0, 0]])
    }

    @Test func leftPaddingFixedLengthAndMultiples() {
        let left = Self.bert.encodeBatch(["ab", "!"], options: EncodingOptions(padding: Padding(.fixed(6), padID: 3, side: .left)))
        #expect(left.ids == [[3, 3, 1, 9, 10, 2], [3, 3, 3, 1, 11, 2]])
        #expect(left.attentionMask == [[0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1]])
        // Fixed length shorter than a row: that row is kept whole and the others follow it.
        let over = Self.bert.encodeBatch(["unaffable ab", "!"], options: EncodingOptions(padding: Padding(.fixed(3))))
        #expect(over.ids == [[1, 7, 8, 6, 9, 10, 2], [1, 11, 2, 0, 0, 0, 0]])
        let multiple = Self.bert.encode("ab", options: EncodingOptions(padding: Padding(.longest, multiple: 8)))
        #expect(multiple.ids == [1, 9, 10, 2, 0, 0, 0, 0] && multiple.attentionMask == [1, 1, 1, 1, 0, 0, 0, 0])
        let single = Self.bert.encode("ab", options: EncodingOptions(padding: Padding(.longest)))
        #expect(single == Encoding(ids: [1, 9, 10, 2], attentionMask: [1, 1, 1, 1]))
    }

    @Test func truncationKeepsSpecialTokens() {
        let right = EncodingOptions(truncation: Truncation(maxLength: 4))
        #expect(Self.bert.encode("unaffable ab", options: right).ids == [1, 7, 8, 2])
        let left = EncodingOptions(truncation: Truncation(maxLength: 4, side: .left))
        #expect(Self.bert.encode("unaffable ab", options: left).ids == [1, 9, 10, 2])
        let plain = EncodingOptions(addSpecialTokens: false, truncation: Truncation(maxLength: 4))
        #expect(Self.bert.encode("unaffable ab", options: plain).ids == [7, 8, 6, 9])
        // Short texts are untouched; only special tokens fit in 2.
        #expect(Self.bert.encode("ab", options: right).ids == [1, 9, 10, 2])
        #expect(Self.bert.encode("ab", options: EncodingOptions(truncation: Truncation(maxLength: 2))).ids == [1, 2])
    }

    @Test func truncationThenPaddingInABatch() {
        let options = EncodingOptions(truncation: Truncation(maxLength: 5), padding: Padding(.longest))
        let batch = Self.bert.encodeBatch(["unaffable ab !", "ab"], options: options)
        #expect(batch.ids == [[1, 7, 8, 6, 2], [1, 9, 10, 2, 0]])
        #expect(batch.attentionMask == [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
        #expect(Self.bert.encodeBatch([], options: options) == BatchEncoding(ids: [], attentionMask: []))
    }

    /// Tokenizers without a template (tiktoken) truncate and pad the plain ids.
    @Test func tiktokenBatches() throws {
        let cl100k = try Assets.cl100k.get()
        let options = EncodingOptions(truncation: Truncation(maxLength: 3), padding: Padding(.longest, padID: 100257))
        let batch = cl100k.encodeBatch(["The quick brown fox jumps", "hello world"], options: options)
        #expect(batch.ids == [[791, 4062, 14198], [15339, 1917, 100257]])
        #expect(batch.attentionMask == [[1, 1, 1], [1, 1, 0]])
        #expect(cl100k.decode(batch.ids[1], skipSpecialTokens: true) == "hello world")
    }

    @Test func truncationShorterThanTheTemplateStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let bert = WordPieceTokenizer(vocabulary: ["[UNK]": 0, "a": 1], prefixTokens: [2], suffixTokens: [3])
            _ = bert.encode("a", options: EncodingOptions(truncation: Truncation(maxLength: 1)))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("truncation maxLength 1 leaves no room for the 2 special tokens"), "stderr was: \(stderr)")
    }
}
