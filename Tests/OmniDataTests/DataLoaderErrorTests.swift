// DataLoader error policy: a corrupt file fails its batch with an error naming the manifest line,
// sample id, modality and file (earlier batches still arrive), or is skipped and recorded.
import Foundation
import Testing
import OmniData
import OmniTensor

@Suite("DataLoader errors")
struct DataLoaderErrorTests {
    /// Six samples in file order, the fourth (line 4) a PNG signature followed by garbage.
    func corruptDataset() throws -> LoaderDataset {
        try LoaderDataset(lines: (0..<6).map { i in
            i == 3 ? #"{"id": "bad", "image": "bad.png", "text": "broken"}"#
                   : #"{"id": "ok\#(i)", "image": "ok\#(i).png", "text": "fine \#(i)"}"#
        }, images: Dictionary(uniqueKeysWithValues: [0, 1, 2, 4, 5].map { ("ok\($0).png", (6, 5, 3)) }),
           raw: ["bad.png": [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0xAB, count: 40)])
    }

    func decoders() -> [Modality: any ModalityDecoder] {
        [.text: TextSampleDecoder(tokenize: byteTokenizer), .image: ImageDecoder(pipeline: ImagePipeline(imageSteps: [.rgb]))]
    }

    @Test(arguments: [0, 2])
    func corruptImageFailsItsBatch(workers: Int) throws {
        let data = try corruptDataset()
        let loader = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 6, seed: 0, shuffle: false),
                                decoders: decoders(), seed: 0, options: .init(batchSize: 2, workers: workers, prefetch: 3))
        let first = try #require(try loader.next())
        #expect(first.ids == ["ok0", "ok1"])
        let before = loader.state
        for _ in 0..<2 {  // the error sticks
            do {
                _ = try loader.next()
                Issue.record("the batch with the corrupt image was delivered")
            } catch {
                #expect(error.kind == .decode)
                #expect(error.sampleID == "bad" && error.line == 4 && error.index == 3 && error.modality == .image)
                #expect(error.file == data.path("bad.png"))
                #expect(error.source == data.manifest.url.path)
                let prefix = "\(data.manifest.url.path):4: sample 'bad': image file \(data.path("bad.png")): "
                #expect(error.description.hasPrefix(prefix), "\(error)")
                #expect(!error.reason.contains(data.path("bad.png")), "the reason repeats the file: \(error.reason)")
            }
        }
        // The position still points at the failed batch, so a fixed file (or a skipping loader) resumes there.
        #expect(loader.state == before && loader.state.indexInEpoch == 1)
        let skipping = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 6, seed: 0, shuffle: false),
                                  decoders: decoders(), seed: 0,
                                  options: .init(batchSize: 2, workers: workers, errorPolicy: .skip))
        try skipping.restore(before)
        #expect(try skipping.next()?.ids == ["ok2"])
    }

    @Test(arguments: [0, 3])
    func corruptImageIsSkippedAndRecorded(workers: Int) throws {
        let data = try corruptDataset()
        let loader = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 6, seed: 0, shuffle: false),
                                decoders: decoders(), seed: 0,
                                options: .init(batchSize: 2, workers: workers, prefetch: 2, errorPolicy: .skip, epochs: 2))
        var batches: [Batch] = []
        while let batch = try loader.next() { batches.append(batch) }
        #expect(batches.map(\.ids) == [["ok0", "ok1"], ["ok2"], ["ok4", "ok5"], ["ok0", "ok1"], ["ok2"], ["ok4", "ok5"]])
        #expect(batches[1].positions == [2] && batches[1].count == 1)
        #expect(batches[1][.image]?.values.shape == [1, 3, 5, 6])
        #expect(batches[1].skipped.map(\.sampleID) == ["bad"])
        #expect(batches[1].skipped.first?.kind == .decode)
        #expect(loader.skipped.count == 2 && loader.skipped.allSatisfy { $0.sampleID == "bad" && $0.line == 4 })
        #expect(batches.enumerated().allSatisfy { $0.offset % 3 == 1 || $0.element.skipped.isEmpty })
    }

    /// A batch whose samples are all bad is skipped as a whole; the next batch comes instead.
    @Test func batchOfOnlyBadSamplesIsSkipped() throws {
        let data = try LoaderDataset(lines: [
            #"{"id": "x0", "image": "missing0.png"}"#, #"{"id": "x1", "image": "empty.png"}"#,
            #"{"id": "y", "image": "y.png"}"#,
        ], images: ["y.png": (3, 3, 3)], raw: ["empty.png": []])
        let loader = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 3, seed: 0, shuffle: false),
                                decoders: decoders(), seed: 0,
                                options: .init(batchSize: 2, workers: 1, errorPolicy: .skip, epochs: 1))
        let batch = try #require(try loader.next())
        #expect(batch.ids == ["y"] && batch.indexInEpoch == 1)
        #expect(try loader.next() == nil)
        #expect(loader.skipped.map(\.sampleID) == ["x0", "x1"])
        #expect(loader.skipped[0].reason.contains("cannot read") || loader.skipped[0].reason.contains("no such"), "\(loader.skipped[0])")
        #expect(loader.skipped[1].reason.contains("empty"), "\(loader.skipped[1])")
        #expect(loader.state.batchesDelivered == 2 && loader.state.epoch == 1)
    }

    /// A modality with no decoder, a sample that does not fit the batch's shape, and a decoder
    /// throwing its own error are each reported with the sample.
    @Test func unusableSamplesAreNamed() throws {
        let data = try LoaderDataset(lines: [
            #"{"id": "rgb", "image": "rgb.png"}"#, #"{"id": "gray", "image": "gray.png"}"#,
            #"{"id": "sound", "audio": "s.wav"}"#, #"{"id": "rgb2", "image": "rgb2.png"}"#,
        ], images: ["rgb.png": (4, 4, 3), "gray.png": (4, 4, 1), "rgb2.png": (5, 4, 3)], audio: ["s.wav": (100, 8000)])
        // No .rgb step: the gray image stays one channel and cannot stack with the RGB ones.
        let image = ImageDecoder(pipeline: ImagePipeline(imageSteps: []))
        let loader = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 4, seed: 0, shuffle: false),
                                decoders: [.image: image], seed: 0,
                                options: .init(batchSize: 4, workers: 2, errorPolicy: .skip))
        let batch = try #require(try loader.next())
        #expect(batch.ids == ["rgb", "rgb2"])
        #expect(batch[.image]?.values.shape == [2, 3, 4, 5] && batch[.image]?.lengths == [[4, 4], [4, 5]])
        let skipped = batch.skipped
        #expect(skipped.map(\.sampleID) == ["gray", "sound"])
        #expect(skipped[0].kind == .collation && skipped[0].line == 2 && skipped[0].file == data.path("gray.png"))
        #expect(skipped[0].reason.contains("[1, 4, 4]") && skipped[0].reason.contains("[3, *, *]"), "\(skipped[0])")
        #expect(skipped[1].kind == .noDecoder && skipped[1].modality == .audio && skipped[1].line == 3)

        // Under .fail the first sample that fails to decode is the error (shapes are compared after decoding).
        let failing = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 4, seed: 0, shuffle: false),
                                 decoders: [.image: image], seed: 0, options: .init(batchSize: 4, workers: 0))
        #expect(throws: DataLoaderError.self) { try failing.next() }
        do { _ = try failing.next() } catch { #expect(error.kind == .noDecoder && error.sampleID == "sound") }

        // Restricting the modalities ignores the audio; a decoder's own error type is kept as the reason.
        struct Refusal: Error, CustomStringConvertible { var description: String { "refused on purpose" } }
        let refusing = ClosureDecoder(variableAxes: []) { _, context in
            if context.sampleID == "rgb2" { throw Refusal() }
            return Tensor([Float(1), 2], shape: [2])
        }
        let picky = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 4, seed: 0, shuffle: false),
                               decoders: [.image: refusing], seed: 0,
                               options: .init(batchSize: 4, workers: 1, errorPolicy: .skip, modalities: [.image]))
        let b = try #require(try picky.next())
        #expect(b.ids == ["rgb", "gray", "sound", "rgb2"].filter { $0 != "rgb2" })
        #expect(b[.image]?.present.toBoolArray() == [true, true, false])
        #expect(b[.image]?.mask.toBoolArray() == [true, true, false])
        #expect(b.skipped.map(\.reason) == ["refused on purpose"])
    }
}
