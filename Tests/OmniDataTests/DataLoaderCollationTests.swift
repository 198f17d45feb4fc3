// Collation (padding, masks, presence), the shipped decoders against the functions they wrap,
// the shuffling sampler, and manifest summaries.
import Foundation
import Testing
import OmniData
import OmniTensor

@Suite("DataLoader collation and decoders")
struct DataLoaderCollationTests {
    @Test func tokenIDsArePaddedWithTheirMasks() {
        let b = Collator.collate([Tensor([5, 6, 7], dtype: .int64), Tensor([9], dtype: .int64), nil,
                                  Tensor([Int](), shape: [0], dtype: .int64)], variableAxes: [0], padValue: 1)
        #expect(b.values.dtype == .int64 && b.values.shape == [4, 3])
        #expect(b.values.toIntArray() == [5, 6, 7, 9, 1, 1, 1, 1, 1, 1, 1, 1])
        #expect(b.mask.shape == [4, 3] && b.mask.dtype == .bool)
        #expect(b.mask.toBoolArray() == [true, true, true, true, false, false, false, false, false, false, false, false])
        #expect(b.present.toBoolArray() == [true, true, false, true])
        #expect(b.lengths == [[3], [1], [0], [0]])
    }

    /// Two variable axes (image height and width) and one fixed (channels), float32, against a
    /// reference filled element by element.
    @Test func imagesPadBottomRightWithA2DMask() {
        let shapes = [[2, 2, 3], [2, 3, 1], [2, 1, 4]]
        let items = shapes.enumerated().map { k, s in
            Tensor((0..<s.reduce(1, *)).map { Float(k * 100 + $0) }, shape: s)
        }
        let b = Collator.collate([items[0], nil, items[1], items[2]], variableAxes: [1, 2], padValue: -0.5)
        #expect(b.values.shape == [4, 2, 3, 4] && b.mask.shape == [4, 3, 4])
        let rows: [[Int]?] = [shapes[0], nil, shapes[1], shapes[2]]
        let sources: [Int?] = [0, nil, 1, 2]
        var expected: [Float] = [], mask: [Bool] = []
        for (row, shape) in rows.enumerated() {
            for c in 0..<2 {
                for y in 0..<3 {
                    for x in 0..<4 {
                        let inside = shape.map { y < $0[1] && x < $0[2] } ?? false
                        expected.append(inside ? Float(sources[row]! * 100 + (c * shape![1] + y) * shape![2] + x) : -0.5)
                        if c == 0 { mask.append(inside) }
                    }
                }
            }
        }
        #expect(b.values.toArray() == expected)
        #expect(b.mask.toBoolArray() == mask)
        #expect(b.lengths == [[2, 3], [0, 0], [3, 1], [1, 4]])
    }

    /// A mel spectrogram varies in frames only: the mask is [B, T].
    @Test func melFramesVaryOnTheLastAxisOnly() {
        let a = Tensor((0..<10).map(Float.init), shape: [2, 5]), c = Tensor([Float(7), 8, 9, 10], shape: [2, 2])
        let b = Collator.collate([a, c], variableAxes: [1], padValue: 0)
        #expect(b.values.shape == [2, 2, 5])
        #expect(b.values.toArray() == (0..<10).map(Float.init) + [7, 8, 0, 0, 0, 9, 10, 0, 0, 0])
        #expect(b.mask.toBoolArray() == [true, true, true, true, true, true, true, false, false, false])
        #expect(b.lengths == [[5], [2]])
        // Fixed-size data (no variable axis): the mask is the presence.
        let fixed = Collator.collate([nil, Tensor([Float(1), 2], shape: [2])], variableAxes: [], padValue: 3)
        #expect(fixed.values.toArray() == [3, 3, 1, 2] && fixed.mask.toBoolArray() == [false, true] && fixed.mask.shape == [2])
    }

    @Test func mismatchesNameTheRowAndTheShape() {
        let rgb = Tensor.zeros([3, 4, 4]), gray = Tensor.zeros([1, 4, 5]), ints = Tensor.zeros([3, 2, 2], dtype: .int64)
        let found = Collator.mismatches([nil, rgb, gray, ints, Tensor.zeros([3, 4])], variableAxes: [1, 2])
        #expect(found.map(\.index) == [2, 3, 4])
        #expect(found[0].reason == "decoded to shape [1, 4, 5], the batch (from row 1) needs [3, *, *]")
        #expect(found[1].reason == "decoded to int64, the batch (from row 1) is float32")
        #expect(found[2].reason.contains("declares axis 2 variable"))
    }

    @Test func imageDecoderRunsThePipeline() throws {
        let data = try LoaderDataset(lines: [#"{"id": "a", "image": "a.png"}"#], images: ["a.png": (40, 30, 3)])
        let decoder = ImageDecoder(pipeline: .training(size: 16, colorJitter: ColorJitter(brightness: 0.3)))
        let context = DecodeContext(sampleID: "a", index: 0, epoch: 0, position: 0, modality: .image, generator: Generator(seed: 9))
        let got = try decoder.decode(.file(URL(fileURLWithPath: data.path("a.png"))), context: context)
        // The same steps, by hand, drawing from the same generator in the same order.
        let g = Generator(seed: 9)
        var image = try Image(contentsOfFile: data.path("a.png")).rgb()
        image = RandomResizedCrop(size: 16).apply(to: image, generator: g)
        image = RandomHorizontalFlip().apply(to: image, generator: g)
        image = ColorJitter(brightness: 0.3).apply(to: image, generator: g)
        let expected = GaussianNoise(std: 0.1).apply(to: image.tensor().normalizedChannels(.imageNet), generator: g)
        #expect(got.shape == [3, 16, 16])
        #expect(got.toArray() == expected.toArray())
        // Evaluation equals the classification preprocessing.
        let eval = try ImageDecoder(pipeline: .evaluation(size: 20, resize: 24))
            .decode(.file(URL(fileURLWithPath: data.path("a.png"))), context: context)
        let reference = try Image(contentsOfFile: data.path("a.png")).classificationTensor(resize: 24, crop: 20)
        #expect(eval.toArray() == reference.toArray())
    }

    @Test func audioDecoderResamplesCropsAndComputesMel() throws {
        let data = try LoaderDataset(lines: [#"{"id": "a", "audio": "a.wav"}"#, #"{"id": "b", "audio": "b.wav"}"#],
                                     audio: ["a.wav": (4410, 44_100), "b.wav": (50, 8000)])
        let url = URL(fileURLWithPath: data.path("a.wav"))
        func context(_ seed: UInt64) -> DecodeContext {
            DecodeContext(sampleID: "a", index: 0, epoch: 0, position: 0, modality: .audio, generator: Generator(seed: seed))
        }
        let full = Resampler(from: 44_100, to: 16_000).resample(try AudioFile(contentsOf: data.path("a.wav")).monoSamples())
        #expect(full.count == 1600)
        let wave = try AudioDecoder().decode(.file(url), context: context(0))
        #expect(wave.shape == [1600] && wave.toArray() == full)
        // A random 0.05 s window: 800 consecutive samples of the full signal, placed by the generator.
        let crop = try AudioDecoder(maxDuration: 0.05, randomCrop: true).decode(.file(url), context: context(4))
        let start = Generator(seed: 4).nextInt(below: 1600 - 800 + 1)
        #expect(crop.toArray() == Array(full[start..<(start + 800)]))
        let head = try AudioDecoder(maxDuration: 0.05).decode(.file(url), context: context(4))
        #expect(head.toArray() == Array(full[0..<800]))
        // Log-mel with a (random) filter bank: the same as WhisperMel on the resampled samples.
        let filters = Tensor.uniform([8, 201], generator: Generator(seed: 1))
        let mel = try AudioDecoder(output: .logMel(filters: filters)).decode(.file(url), context: context(0))
        let reference = WhisperMel.logMelSpectrogram(samples: full, nMels: 8, filters: filters)
        #expect(mel.shape == [8, 10] && mel.toArray() == reference.toArray())
        #expect(AudioDecoder(output: .logMel(filters: filters)).variableAxes == [1])
        // Too short for one frame (50 samples at 8 kHz → 100 at 16 kHz): a typed error, not a crash.
        #expect(throws: DataLoaderError.self) {
            try AudioDecoder(output: .logMel(filters: filters)).decode(.file(URL(fileURLWithPath: data.path("b.wav"))), context: context(0))
        }
    }

    @Test func textDecoderTruncatesAndAugments() throws {
        let context = DecodeContext(sampleID: "t", index: 0, epoch: 0, position: 0, modality: .text, generator: Generator(seed: 0))
        let plain = try TextSampleDecoder(padID: 2, maxLength: 3, tokenize: byteTokenizer).decode(.text("hello"), context: context)
        #expect(plain.dtype == .int64 && plain.toIntArray() == byteTokenizer("hel"))
        let upper = TextSampleDecoder(augment: { text, g in g.nextDouble() < 2 ? text.uppercased() : text }, tokenize: byteTokenizer)
        #expect(try upper.decode(.text("ab"), context: context).toIntArray() == byteTokenizer("AB"))
        #expect(upper.padValue == 0 && TextSampleDecoder(padID: 2, tokenize: byteTokenizer).padValue == 2)
    }

    @Test func shuffleSamplerPermutesEachEpochReproducibly() throws {
        let sampler = ShuffleSampler(count: 10, seed: 5)
        let epochs = (0..<3).map { _ in (0..<10).map { _ in sampler.next() } }
        for e in epochs { #expect(e.sorted() == Array(0..<10)) }
        #expect(epochs[0] != epochs[1] && epochs[1] != epochs[2] && epochs[0] != Array(0..<10))
        #expect(epochs[1] == sampler.order(forEpoch: 1))
        let again = ShuffleSampler(count: 10, seed: 5)
        _ = (0..<14).map { _ in again.next() }
        let saved = again.state
        #expect(saved.epoch == 1 && saved.step == 4)
        let rest = (0..<16).map { _ in again.next() }
        #expect(rest == Array(epochs[1][4...]) + epochs[2])
        let restored = ShuffleSampler(count: 10, seed: 0)
        try restored.restore(saved)
        #expect((0..<16).map { _ in restored.next() } == rest)
        #expect(throws: DataLoaderError.self) { try ShuffleSampler(count: 9, seed: 5).restore(saved) }
        let ordered = ShuffleSampler(count: 4, seed: 1, shuffle: false)
        #expect((0..<8).map { _ in ordered.next() } == [0, 1, 2, 3, 0, 1, 2, 3])
    }

    @Test func manifestSummaryCountsModalitiesTasksAndMissingFiles() throws {
        let data = try LoaderDataset(lines: [
            #"{"id": "a", "text": "x", "task": "lm"}"#, #"{"id": "b", "image": "i.png", "text": "cap", "task": "caption"}"#,
            #"{"id": "c", "image": "gone.png", "task": "caption"}"#, #"{"id": "d", "audio": "gone.wav"}"#,
        ], images: ["i.png": (2, 2, 3)])
        let s = data.manifest.summary(checkFiles: true)
        #expect(s.samples == 4 && s.missingFiles == 2 && s.badLines == 0 && s.untasked == 1)
        #expect(s.modalityCounts == [.text: 2, .image: 2, .audio: 1])
        #expect(s.primaryCounts == [.text: 1, .image: 2, .audio: 1])
        #expect(s.taskCounts == ["lm": 1, "caption": 2])
        #expect(data.manifest.summary(checkFiles: false).missingFiles == 0)
    }
}
