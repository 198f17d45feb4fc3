// DataLoader: batches follow the sampler and the decoders exactly, do not depend on worker count,
// prefetch depth or timing, resume bit-exactly from a saved state, never run more than `prefetch`
// batches ahead, and shut down without hanging.
import Foundation
import Testing
import OmniData
import OmniTensor

@Suite("DataLoader")
struct DataLoaderTests {
    /// Every batch equals the decoders run by hand on the sampler's indices, with the documented
    /// per-(seed, epoch, position, modality) generators, stacked by the collator.
    @Test func batchesFollowTheSamplerAndTheDecoders() throws {
        let data = try mixedDataset()
        let manifest = data.manifest
        let weights = ModalityWeights(text: 6, image: 3, audio: 1)
        let decoders = augmentingDecoders()
        let loader = DataLoader(manifest: manifest, decoders: decoders, seed: 11, weights: weights,
                                options: .init(batchSize: 4, workers: 2, prefetch: 3, epochs: 2))
        #expect(loader.epochLength == 17 && loader.batchesPerEpoch == 5)
        var batches: [Batch] = []
        while let batch = try loader.next() { batches.append(batch) }
        #expect(try loader.next() == nil)
        #expect(batches.count == 10)
        let reference = ModalitySampler(manifest: manifest, weights: weights, seed: 11)
        #expect(batches.flatMap(\.indices) == reference.next(34))
        var seen = Set<Modality>()
        for (k, batch) in batches.enumerated() {
            #expect(batch.epoch == k / 5 && batch.indexInEpoch == k % 5)
            let start = (k % 5) * 4
            #expect(batch.positions == Array(start..<min(start + 4, 17)))
            let samples = batch.indices.map { manifest.samples[$0] }
            #expect(batch.ids == samples.map(\.id))
            #expect(batch.tasks == samples.map(\.task) && batch.targets == samples.map(\.target))
            #expect(batch.lines == batch.indices.map { manifest.sampleLines[$0] })
            #expect(batch.skipped.isEmpty)
            for m in [Modality.text, .image, .audio] {
                let decoder = decoders[m]!
                let items: [Tensor?] = try zip(batch.indices, batch.positions).map { index, position in
                    let sample = manifest.samples[index]
                    guard sample.modalities.contains(m) else { return nil }
                    let input: DecoderInput = m == .text ? .text(sample.text!) : .file(manifest.url(for: sample.path(for: m)!))
                    let generator = Generator(seed: DataLoader.augmentationSeed(seed: 11, epoch: batch.epoch, position: position, modality: m))
                    return try decoder.decode(input, context: DecodeContext(sampleID: sample.id, index: index, epoch: batch.epoch,
                                                                            position: position, modality: m, generator: generator))
                }
                guard items.contains(where: { $0 != nil }) else {
                    #expect(batch[m] == nil)
                    #expect(batch.presence(of: m).toBoolArray() == Array(repeating: false, count: batch.count))
                    continue
                }
                seen.insert(m)
                let expected = Collator.collate(items, variableAxes: decoder.variableAxes, padValue: decoder.padValue)
                let got = try #require(batch[m])
                #expect(got.values.shape == expected.values.shape && got.mask.shape == expected.mask.shape)
                #expect(got.values.withUnsafeBytes { Array($0) } == expected.values.withUnsafeBytes { Array($0) }, "batch \(k) \(m)")
                #expect(got.mask.toBoolArray() == expected.mask.toBoolArray())
                #expect(got.present.toBoolArray() == samples.map { $0.modalities.contains(m) })
                #expect(got.lengths == expected.lengths)
            }
        }
        #expect(seen == [.text, .image, .audio])
    }

    /// Padding and masks from real files, checked against values computed here: token ids padded
    /// with the pad id, images of different sizes padded bottom-right, waveforms of different
    /// lengths, and all-padding rows for samples without the modality.
    @Test func paddingAndMasksHoldTheRealValues() throws {
        let data = try LoaderDataset(lines: [
            #"{"id": "s0", "text": "abc", "image": "a.png"}"#,
            #"{"id": "s1", "text": "a", "audio": "x.wav"}"#,
            #"{"id": "s2", "image": "b.png", "audio": "y.wav"}"#,
        ], images: ["a.png": (5, 3, 3), "b.png": (2, 4, 1)], audio: ["x.wav": (300, 8000), "y.wav": (250, 16000)])
        let loader = DataLoader(source: data.manifest, sampler: ShuffleSampler(count: 3, seed: 0, shuffle: false),
                                decoders: [.text: TextSampleDecoder(padID: 1, tokenize: byteTokenizer),
                                           .image: ImageDecoder(pipeline: ImagePipeline(imageSteps: [.rgb]), padValue: -1),
                                           .audio: AudioDecoder(sampleRate: 16_000)],
                                seed: 5, options: .init(batchSize: 3, workers: 1, epochs: 1))
        let batch = try #require(try loader.next())
        #expect(batch.ids == ["s0", "s1", "s2"])

        let text = try #require(batch[.text])
        let a = Int(UInt8(ascii: "a")) + 3
        #expect(text.values.dtype == .int64 && text.values.shape == [3, 3])
        #expect(text.values.toIntArray() == [a, a + 1, a + 2, a, 1, 1, 1, 1, 1])
        #expect(text.mask.dtype == .bool && text.mask.toBoolArray() == [true, true, true, true, false, false, false, false, false])
        #expect(text.present.toBoolArray() == [true, true, false])
        #expect(text.lengths == [[3], [1], [0]])

        let image = try #require(batch[.image])
        #expect(image.values.shape == [3, 3, 4, 5] && image.mask.shape == [3, 4, 5])
        #expect(image.present.toBoolArray() == [true, false, true])
        #expect(image.lengths == [[3, 5], [0, 0], [4, 2]])
        let decodedA = try Image(contentsOfFile: data.path("a.png")), decodedB = try Image(contentsOfFile: data.path("b.png"))
        let values = image.values.toArray(), mask = image.mask.toBoolArray()
        var worst = 0.0
        for (row, source) in [(0, decodedA), (1, nil), (2, decodedB.rgb())] as [(Int, Image?)] {
            for c in 0..<3 {
                for y in 0..<4 {
                    for x in 0..<5 {
                        let inside = source.map { y < $0.height && x < $0.width } ?? false
                        let expected = inside ? Double(source![x: x, y: y, channel: c]) / 255 : -1
                        worst = max(worst, abs(Double(values[((row * 3 + c) * 4 + y) * 5 + x]) - expected))
                        if c == 0 { #expect(mask[(row * 4 + y) * 5 + x] == inside, "row \(row) (\(x), \(y))") }
                    }
                }
            }
        }
        #expect(worst < 1e-7, "largest difference \(worst)")

        let audio = try #require(batch[.audio])
        let x = Resampler(from: 8000, to: 16_000).resample(try AudioFile(contentsOf: data.path("x.wav")).monoSamples())
        let y = try AudioFile(contentsOf: data.path("y.wav")).monoSamples()
        #expect(x.count == 600 && y.count == 250)
        #expect(audio.values.shape == [3, 600] && audio.lengths == [[0], [600], [250]])
        #expect(audio.values.toArray() == [Float](repeating: 0, count: 600) + x + y + [Float](repeating: 0, count: 350))
        #expect(audio.mask.toBoolArray() == [Bool](repeating: false, count: 600) + [Bool](repeating: true, count: 850)
                                             + [Bool](repeating: false, count: 350))
        #expect(audio.present.toBoolArray() == [false, true, true])
        #expect(try loader.next() == nil)
    }

    /// The same seed gives bit-identical batches with 0–4 workers and prefetch 1–5; another seed
    /// does not.
    @Test func batchesDoNotDependOnThreadsOrPrefetch() throws {
        let data = try mixedDataset()
        func run(workers: Int, prefetch: Int, seed: UInt64 = 3) throws -> [BatchDigest] {
            let loader = DataLoader(manifest: data.manifest, decoders: augmentingDecoders(), seed: seed,
                                    options: .init(batchSize: 3, workers: workers, prefetch: prefetch, epochs: 2))
            return try drain(loader, 100)
        }
        let reference = try run(workers: 0, prefetch: 1)
        #expect(reference.count == 12)  // 17 draws → 6 batches per epoch
        for (workers, prefetch) in [(1, 1), (2, 2), (3, 5), (4, 1), (4, 3)] {
            let got = try run(workers: workers, prefetch: prefetch)
            #expect(got == reference, "workers \(workers), prefetch \(prefetch)")
        }
        let other = try run(workers: 2, prefetch: 2, seed: 4)
        #expect(other.count == reference.count && other != reference)
    }

    /// Run N batches, save, run M more; a new loader (other worker count) restored from the saved
    /// state produces the same M batches bit for bit — across epoch boundaries, for both samplers,
    /// with and without dropLast.
    @Test func restoredLoaderContinuesExactly() throws {
        let data = try mixedDataset()
        let manifest = data.manifest
        enum Kind { case modality, shuffle }
        for (kind, dropLast, n, m) in [(Kind.modality, false, 3, 9), (.shuffle, true, 5, 7), (.shuffle, false, 0, 6),
                                       (.modality, true, 3, 4)] {
            func makeLoader(workers: Int, prefetch: Int, seed: UInt64) -> DataLoader {
                let sampler: any IndexSampler = kind == .modality
                    ? ModalitySampler(manifest: manifest, seed: seed) : ShuffleSampler(count: manifest.count, seed: seed)
                return DataLoader(source: manifest, sampler: sampler, decoders: augmentingDecoders(), seed: seed,
                                  options: .init(batchSize: 4, workers: workers, prefetch: prefetch, dropLast: dropLast))
            }
            let original = makeLoader(workers: 3, prefetch: 4, seed: 21)
            _ = try drain(original, n)
            let saved = original.state
            #expect(saved.batchesDelivered == n)
            let continued = try drain(original, m)
            #expect(continued.count == m)
            #expect(Set(continued.map(\.epoch)).count > 1, "the continuation should cross an epoch boundary")

            // Through JSON, as a checkpoint would store it, into a loader with another seed.
            let decoded = try JSONDecoder().decode(DataLoader.State.self, from: JSONEncoder().encode(saved))
            #expect(decoded == saved)
            let resumed = makeLoader(workers: 1, prefetch: 2, seed: 999)
            try resumed.restore(decoded)
            #expect(resumed.state == saved)
            #expect(try drain(resumed, m) == continued, "\(kind) dropLast \(dropLast)")
            if dropLast { #expect(continued.allSatisfy { $0.ids.count == 4 }) }

            // The original loader can be rewound too, mid-prefetch.
            try original.restore(saved)
            #expect(try drain(original, m) == continued)
        }
    }

    /// Workers never hold more than `prefetch` batches the consumer has not taken: the loader's
    /// own counter and the decoders' count of decoded samples agree, and both stop at the bound.
    @Test func prefetchIsBounded() throws {
        for (workers, prefetch) in [(3, 2), (1, 1), (4, 3)] {
            let decoded = Counter()
            let texts = (0..<60).map { ManifestSample(id: "s\($0)", text: String(repeating: "x", count: $0 % 7 + 1)) }
            let decoder = ClosureDecoder(variableAxes: [0]) { input, _ in
                decoded.increment()
                guard case .text(let t) = input else { throw DataLoaderError(kind: .decode, reason: "text expected") }
                return Tensor(byteTokenizer(t), dtype: .int64)
            }
            let loader = DataLoader(source: SampleList(texts, directory: URL(fileURLWithPath: "/")),
                                    sampler: ShuffleSampler(count: 60, seed: 1), decoders: [.text: decoder], seed: 1,
                                    options: .init(batchSize: 2, workers: workers, prefetch: prefetch))
            #expect(loader.statistics.batchesStarted == 0, "nothing starts before the first next()")
            for taken in 1...4 {
                _ = try #require(try loader.next())
                // Workers catch up to exactly `prefetch` batches ahead, then wait.
                #expect(eventually { loader.statistics.batchesStarted == taken + prefetch && decoded.value == (taken + prefetch) * 2 },
                        "workers \(workers) prefetch \(prefetch): \(loader.statistics), \(decoded.value) decoded")
                usleep(50_000)
                let s = loader.statistics
                #expect(s.batchesStarted == taken + prefetch && s.ahead == prefetch && s.batchesDelivered == taken, "\(s)")
                #expect(decoded.value == (taken + prefetch) * 2)
            }
            #expect(loader.statistics.maxAhead == prefetch)
        }
    }

    /// cancel() returns promptly while workers are busy with slow samples, nothing decodes
    /// afterwards, next() returns nil, and restore() starts it again; dropping a busy loader
    /// stops its workers too.
    @Test func cancelAndDeinitStopTheWorkers() throws {
        let texts = (0..<400).map { ManifestSample(id: "s\($0)", text: "abc") }
        func makeLoader(_ decoded: Counter) -> DataLoader {
            let slow = ClosureDecoder(variableAxes: [0]) { _, _ in
                usleep(20_000)
                decoded.increment()
                return Tensor([1, 2, 3], dtype: .int64)
            }
            return DataLoader(source: SampleList(texts, directory: URL(fileURLWithPath: "/")),
                              sampler: ShuffleSampler(count: 400, seed: 2), decoders: [.text: slow], seed: 2,
                              options: .init(batchSize: 4, workers: 4, prefetch: 8))
        }
        let decoded = Counter()
        let loader = makeLoader(decoded)
        let start = loader.state
        _ = try #require(try loader.next())
        let t0 = Date()
        loader.cancel()
        let elapsed = Date().timeIntervalSince(t0)
        #expect(elapsed < 2, "cancel took \(elapsed) s")  // at most one batch (4 × 20 ms) per worker
        let after = decoded.value
        usleep(150_000)
        #expect(decoded.value == after, "samples were decoded after cancel()")
        #expect(try loader.next() == nil)
        #expect(loader.state.batchesDelivered == 1)
        try loader.restore(start)
        let again = try #require(try loader.next())
        #expect(again.ids.count == 4 && again.indexInEpoch == 0)
        loader.cancel()

        let decodedByDropped = Counter()
        var dropped: DataLoader? = makeLoader(decodedByDropped)
        _ = try dropped!.next()
        let t1 = Date()
        dropped = nil
        #expect(Date().timeIntervalSince(t1) < 2)
        let settled = decodedByDropped.value
        usleep(150_000)
        #expect(decodedByDropped.value == settled, "workers kept decoding after the loader was dropped")
        #expect(settled >= 4)
    }

    /// A state saved for other data, another batch size or another sampler kind is refused with
    /// a typed error, and the loader keeps its position.
    @Test func foreignStatesAreRefused() throws {
        let data = try mixedDataset()
        let loader = DataLoader(manifest: data.manifest, decoders: augmentingDecoders(), seed: 1,
                                options: .init(batchSize: 4, workers: 1))
        _ = try loader.next()
        let good = loader.state

        func refused(_ state: DataLoader.State, _ fragment: String) {
            do {
                try loader.restore(state)
                Issue.record("restore accepted a foreign state (\(fragment))")
            } catch {
                #expect(error.kind == .invalidState)
                #expect(error.description.contains(fragment), "\(error)")
            }
        }
        var other = good; other.batchSize = 3
        refused(other, "batch size 3")
        other = good; other.sampleCount = 18
        refused(other, "18 samples")
        other = good; other.position = 3
        refused(other, "impossible")
        other = good; other.sampler = .shuffle(ShuffleSampler(count: 17, seed: 0).state)
        refused(other, "not a ModalitySampler")
        let small = try LoaderDataset(lines: [#"{"id": "a", "text": "x"}"#, #"{"id": "b", "text": "y"}"#])
        other = good; other.sampler = ModalitySampler(manifest: small.manifest, seed: 0).samplerState
        refused(other, "group sizes")
        #expect(loader.state == good)
        let next = try #require(try loader.next())
        #expect(next.indexInEpoch == 1)
    }
}
