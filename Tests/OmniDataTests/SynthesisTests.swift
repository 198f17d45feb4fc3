import Foundation
import OmniTensor
import Testing
@testable import OmniData

@Suite struct SynthesisTests {
    /// Fraction of pixels whose colour is within `tolerance` of `rgb`.
    func coverage(_ image: Image, _ rgb: (Float, Float, Float), tolerance: Float = 0.12) -> Double {
        guard case .uint8(let p) = image.pixels else { return 0 }
        var hits = 0
        for i in 0..<(image.width * image.height) {
            let d = max(abs(Float(p[3 * i]) / 255 - rgb.0), abs(Float(p[3 * i + 1]) / 255 - rgb.1), abs(Float(p[3 * i + 2]) / 255 - rgb.2))
            if d < tolerance { hits += 1 }
        }
        return Double(hits) / Double(image.width * image.height)
    }

    @Test func scenesDrawTheirColourInProportionToCountAndSize() {
        for shape in ShapeKind.allCases {
            let g = Generator(seed: 7)
            let one = ShapeScene.render(SceneSpec(shape: shape, color: .red, size: .small, count: 1), generator: g)
            let three = ShapeScene.render(SceneSpec(shape: shape, color: .red, size: .small, count: 3), generator: g)
            let large = ShapeScene.render(SceneSpec(shape: shape, color: .red, size: .large, count: 1), generator: g)
            let c1 = coverage(one, ColorName.red.rgb), c3 = coverage(three, ColorName.red.rgb), cl = coverage(large, ColorName.red.rgb)
            #expect(c1 > 0.003, "\(shape): one small shape covers \(c1)")
            #expect(c3 > 2 * c1 && c3 < 4.5 * c1, "\(shape): three shapes cover \(c3), one covers \(c1)")
            #expect(cl > 2 * c1, "\(shape): a large shape covers \(cl), a small one \(c1)")
            #expect(coverage(one, ColorName.blue.rgb) == 0)
        }
    }

    @Test func scenesAreDeterministicPerSeed() {
        let spec = SceneSpec(shape: .star, color: .yellow, size: .large, count: 2)
        #expect(ShapeScene.render(spec, generator: Generator(seed: 1)) == ShapeScene.render(spec, generator: Generator(seed: 1)))
        #expect(ShapeScene.render(spec, generator: Generator(seed: 1)) != ShapeScene.render(spec, generator: Generator(seed: 2)))
        #expect(spec.caption == "two large yellow stars")
        #expect(SceneSpec(shape: .cross, color: .white, size: .small, count: 1).caption == "one small white cross")
        #expect(SceneSpec.all.count == 6 * 6 * 2 * 4)
    }

    @Test func shapesAreDistinguishable() {
        // the same spec with different shapes gives different silhouettes at the same place
        let masks = ShapeKind.allCases.map { shape in
            (0..<400).map { i -> Bool in
                let x = Float(i % 20) - 9.5, y = Float(i / 20) - 9.5
                return ShapeScene.contains(shape, dx: x, dy: y, radius: 9, rotation: 0)
            }
        }
        for a in 0..<masks.count { for b in (a + 1)..<masks.count {
            let differing = zip(masks[a], masks[b]).filter { $0 != $1 }.count
            #expect(differing > 20, "\(ShapeKind.allCases[a]) and \(ShapeKind.allCases[b]) differ in only \(differing) of 400 pixels")
        } }
    }

    @Test func motionClipsMoveTheObjectTheStatedWay() {
        for direction in MotionDirection.allCases {
            let frames = MotionClip.render(shape: .square, color: .green, direction: direction, generator: Generator(seed: 3))
            #expect(frames.count == 8)
            func centroid(_ image: Image) -> (Double, Double) {
                guard case .uint8(let p) = image.pixels else { return (0, 0) }
                var sx = 0.0, sy = 0.0, n = 0.0
                for i in 0..<(image.width * image.height) where p[3 * i + 1] > 150 && p[3 * i] < 100 {
                    sx += Double(i % image.width); sy += Double(i / image.width); n += 1
                }
                return (sx / n, sy / n)
            }
            let (x0, y0) = centroid(frames[0]), (x1, y1) = centroid(frames[7])
            switch direction {
            case .right: #expect(x1 - x0 > 15 && abs(y1 - y0) < 1)
            case .left: #expect(x0 - x1 > 15 && abs(y1 - y0) < 1)
            case .down: #expect(y1 - y0 > 15 && abs(x1 - x0) < 1)
            case .up: #expect(y0 - y1 > 15 && abs(x1 - x0) < 1)
            }
        }
    }

    /// Amplitude of the DFT of `x` at `hz` (Float64, direct sum).
    func amplitude(_ x: [Float], rate: Double, hz: Double) -> Double {
        var re = 0.0, im = 0.0
        for (i, v) in x.enumerated() {
            let a = 2 * Double.pi * hz * Double(i) / rate
            re += Double(v) * cos(a); im -= Double(v) * sin(a)
        }
        return 2 * (re * re + im * im).squareRoot() / Double(x.count)
    }

    @Test func vibrationFaultsShowTheirSignatures() {
        let rate = 2000
        let (imbalance, f0) = VibrationSynthesizer.signal(.imbalance, rate: rate, generator: Generator(seed: 4))
        let x = imbalance.narrowed(axis: 0, start: 0, length: 1).toArray()
        #expect(amplitude(x, rate: Double(rate), hz: f0) > 0.5)
        let (mis, g0) = VibrationSynthesizer.signal(.misalignment, rate: rate, generator: Generator(seed: 4))
        let mx = mis.narrowed(axis: 0, start: 0, length: 1).toArray()
        #expect(amplitude(mx, rate: Double(rate), hz: 2 * g0) > 0.3)
        #expect(amplitude(mx, rate: Double(rate), hz: g0) < 0.15)
        let (normal, n0) = VibrationSynthesizer.signal(.normal, rate: rate, generator: Generator(seed: 4))
        let nx = normal.narrowed(axis: 0, start: 0, length: 1).toArray()
        #expect(amplitude(nx, rate: Double(rate), hz: n0) < 0.1)
        // bearing faults: energy well above the shaft harmonics
        let (outer, _) = VibrationSynthesizer.signal(.outerRaceFault, rate: rate, generator: Generator(seed: 4))
        let rms = { (v: [Float]) in (v.map { Double($0) * Double($0) }.reduce(0, +) / Double(v.count)).squareRoot() }
        #expect(rms(outer.narrowed(axis: 0, start: 0, length: 1).toArray()) > 2 * rms(nx))
    }

    @Test func espeakSpeaksAt16kHz() throws {
        let path = NSTemporaryDirectory() + "omni-speech-\(getpid()).wav"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SpeechSynthesizer.speak("three small red circles", voice: SpeechVoice.demoVoices[1], to: path)
        let audio = try AudioFile(contentsOf: path)
        #expect(audio.sampleRate == 16_000 && audio.channels == 1)
        let s = audio.monoSamples()
        #expect(s.count > 8_000 && s.count < 48_000, "\(s.count) samples for four words")
        #expect(s.map { abs($0) }.max()! > 0.1)
    }
}

@Suite struct DemoCorpusTests {
    @Test func smallCorpusIsValidDeterministicAndNeverPairsImageWithAudioInTraining() throws {
        let base = NSTemporaryDirectory() + "omni-demo-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        var c = DemoCorpusConfiguration.small
        c.seed = 5
        let a = try DemoCorpus.generate(into: base + "/a", configuration: c)
        c.threads = 1
        _ = try DemoCorpus.generate(into: base + "/b", configuration: c)
        #expect(a.manifests["train"] == 2 * c.trainScenes + c.trainSpeech + c.trainClips + c.trainSignals)
        #expect(a.manifests["test"] == c.testScenes + c.testQuestions)
        for split in ["train", "validation", "test"] {
            let url = URL(fileURLWithPath: base + "/a/\(split).jsonl")
            let manifest = try Manifest.load(contentsOf: url)
            let issues = manifest.validate(checkFiles: true)
            #expect(issues.isEmpty, "\(split): \(issues.prefix(3))")
            // same seed, different thread count: identical manifests and files
            let other = try String(contentsOfFile: base + "/b/\(split).jsonl", encoding: .utf8)
            #expect(try String(contentsOf: url, encoding: .utf8) == other)
            if split == "train" {
                #expect(manifest.samples.allSatisfy { !($0.image != nil && $0.audio != nil) })
            }
        }
        for file in ["images/scene-000003.png", "images/test-000002.png", "signals/machine-000001.npy", "video/clip-000001.mkv"] {
            let bytes = FileManager.default.contents(atPath: base + "/a/" + file)
            #expect(bytes != nil && bytes == FileManager.default.contents(atPath: base + "/b/" + file), "\(file) differs")
        }
        // motion clips are lossless FFV1 videos of clipFrames frames at DemoCorpus.clipFPS
        let clips = try Manifest.load(contentsOf: URL(fileURLWithPath: base + "/a/train.jsonl")).samples.compactMap(\.video)
        #expect(clips.count == c.trainClips && clips.allSatisfy { $0.hasPrefix("video/clip-") && $0.hasSuffix(".mkv") }, "\(clips)")
        for clip in clips {
            let info = try VideoReader(contentsOf: base + "/a/" + clip).info
            #expect(info.codec == "ffv1" && info.frameCount == c.clipFrames && info.fps == Double(DemoCorpus.clipFPS), "\(clip): \(info)")
            #expect(info.width == c.imageSide && info.height == c.imageSide, "\(clip): \(info)")
        }
        let test = try Manifest.load(contentsOf: URL(fileURLWithPath: base + "/a/test.jsonl")).samples
        let captions = test.filter { $0.task == "cross_modal_retrieval" }.compactMap(\.text)
        #expect(captions.count == c.testScenes && Set(captions).count == captions.count, "retrieval captions must be distinct")
        // answers are consistent with the scene attributes
        for s in test where s.task == "visual_question_answering" {
            guard case .string(let answer)? = s.target, let kind = SceneQuestion.Kind(rawValue: String(s.id.split(separator: "-").last!)) else {
                Issue.record("bad question line \(s.id)"); continue
            }
            #expect(SceneQuestion.answers(for: kind).contains(answer), "\(s.id): \(answer)")
        }
    }
}
