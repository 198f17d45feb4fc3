import Foundation
import OmniNN
import OmniOptim
import OmniTensor
import Testing
@testable import OmniTrain

/// A small model with trainable weights, a scalar parameter and buffers of two dtypes.
final class TinyNet: Module, @unchecked Sendable {
    @ModuleInfo(key: "fc") var fc: Linear
    @ModuleInfo(key: "norm") var norm: BatchNorm
    @ModuleInfo(key: "scale") var scale: LogitScale

    init(seed: UInt64) {
        super.init()
        fc = Linear(4, 3, generator: Generator(seed: seed))
        norm = BatchNorm(3)
        scale = LogitScale()
        norm.runningMean = Tensor.uniform([3], generator: Generator(seed: seed + 1))
    }

    func loss(_ x: Tensor) -> Tensor { (fc(x) * scale() * 0.1).square().mean() }
}

/// The raw bytes of a tensor (bit-exact comparison, NaN-safe).
func bytes(_ t: Tensor) -> [UInt8] { t.withUnsafeBytes { Array($0) } }

func stateBytes(_ dict: [String: Tensor]) -> [String: [UInt8]] { dict.mapValues(bytes) }

/// Collects warnings from a store.
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

/// Trains `steps` AdamW steps on a fixed batch.
func train(_ model: TinyNet, _ optimizer: AdamW, steps: Int) {
    let x = Tensor.uniform([5, 4], low: -1, high: 1, generator: Generator(seed: 77))
    for _ in 0..<steps {
        let (_, grads) = valueAndGrad(model) { $0.loss(x) }
        optimizer.update(model, gradients: grads)
    }
}

@Suite struct SHA256Tests {
    @Test func knownAnswerVectors() {
        // FIPS 180-4 / NIST CSRC examples.
        #expect(SHA256.hash([]).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hexString
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hexString
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func streamingInAnyChunksEqualsOneShot() throws {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let expected = SHA256.hash(data)
        for chunk in [1, 3, 55, 56, 63, 64, 65, 127, 999] {
            var h = SHA256()
            var i = 0
            while i < data.count { h.update(Array(data[i..<Swift.min(data.count, i + chunk)])); i += chunk }
            #expect(h.finalize() == expected, "chunks of \(chunk)")
        }
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let file = dir.path + "/data.bin"
        _ = FileManager.default.createFile(atPath: file, contents: Data(data))
        #expect(try SHA256.hexDigest(ofFile: file) == expected.hexString)
        #expect(throws: CheckpointError.self) { try SHA256.hexDigest(ofFile: dir.path + "/missing") }
    }
}

@Suite struct CheckpointStoreTests {
    @Test func roundTripIsBitExactAndResumesTheSameTrajectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = TinyNet(seed: 1)
        let optimizer = AdamW(learningRate: 0.01, weightDecay: 0.1)
        train(model, optimizer, steps: 3)
        let generator = Generator(seed: 99)
        _ = generator.next()
        var state = TrainingState(step: 3, epoch: 1, samplesSeen: 15, generators: ["data": generator.state, "max": [UInt64.max, 1, 2, 3]])
        struct LoaderPosition: Codable, Equatable { var shard: Int; var offset: Int; var order: [Int] }
        try state.store(LoaderPosition(shard: 2, offset: 17, order: [3, 1, 2]), as: "loader")

        let store = try CheckpointStore(directory: dir.path + "/checkpoints", keepLast: 3)
        let saved = try store.save(step: 3, model: model, optimizer: optimizer, state: state)
        #expect(saved.step == 3 && saved.directory.hasSuffix("/step-000000003"))
        #expect(Set(saved.manifest.files.keys) == ["model.safetensors", "optimizer.safetensors", "state.json"])
        try saved.verify()

        // Load into fresh objects.
        let restored = TinyNet(seed: 2)
        let restoredOptimizer = AdamW(learningRate: 0.01, weightDecay: 0.1)
        let latest = try #require(store.latest())
        try latest.loadModel(into: restored)
        try latest.loadOptimizer(into: restoredOptimizer)
        #expect(stateBytes(restored.stateDict()) == stateBytes(model.stateDict()))
        #expect(stateBytes(restoredOptimizer.stateDict()) == stateBytes(optimizer.stateDict()))
        #expect(restoredOptimizer.step == 3)
        let back = try latest.state(TrainingState.self)
        #expect(back == state)
        #expect(back.generators["max"]! == [UInt64.max, 1, 2, 3])
        #expect(try back.value(LoaderPosition.self, forKey: "loader") == LoaderPosition(shard: 2, offset: 17, order: [3, 1, 2]))
        let resumedGenerator = Generator(seed: 0)
        resumedGenerator.state = back.generators["data"]!
        #expect(resumedGenerator.next() == generator.next())

        // Continuing from the checkpoint reaches the same weights as never stopping.
        train(model, optimizer, steps: 2)
        train(restored, restoredOptimizer, steps: 2)
        #expect(stateBytes(restored.stateDict()) == stateBytes(model.stateDict()))

        // The manifest's checksums are sha256sum's.
        let file = latest.path(Checkpoint.modelFile)
        #expect(latest.manifest.files[Checkpoint.modelFile]!.sha256 == (try SHA256.hexDigest(ofFile: file)))
    }

    @Test func strictLoadingReportsAMismatchedModel() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try CheckpointStore(directory: dir.path, keepLast: nil)
        let checkpoint = try store.save(step: 0, model: TinyNet(seed: 1), state: TrainingState())
        #expect(!checkpoint.hasOptimizerState)
        #expect(throws: LoadError.self) { try checkpoint.loadModel(into: Linear(4, 3, generator: Generator(seed: 0))) }
        #expect(throws: CheckpointError.self) { try checkpoint.loadOptimizer(into: AdamW()) }
    }

    @Test func aCorruptNewestCheckpointFallsBackToThePrevious() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let warnings = WarningLog()
        let store = try CheckpointStore(directory: dir.path, keepLast: 5, warningHandler: { warnings.add($0) })
        let model = TinyNet(seed: 3), optimizer = AdamW(learningRate: 0.01)
        for step in 1...3 {
            train(model, optimizer, steps: 1)
            try store.save(step: step, model: model, optimizer: optimizer, state: TrainingState(step: step))
        }
        #expect(store.latest()?.step == 3)

        // Flip one byte in the middle of step 3's weights.
        let weights = dir.path + "/step-000000003/model.safetensors"
        var data = try Data(contentsOf: URL(fileURLWithPath: weights))
        data[data.count / 2] ^= 0x01
        try data.write(to: URL(fileURLWithPath: weights))
        #expect(store.latest()?.step == 2)
        #expect(warnings.all.contains { $0.contains("step-000000003") && $0.contains("model.safetensors") && $0.contains("SHA-256") })

        // Truncate step 2's optimizer state, delete step 1's manifest: nothing left.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.path + "/step-000000002/optimizer.safetensors"))
        try handle.truncate(atOffset: 10)
        try handle.close()
        #expect(store.latest()?.step == 1)
        try FileManager.default.removeItem(atPath: dir.path + "/step-000000001/manifest.json")
        #expect(store.latest() == nil)
        #expect(warnings.all.contains { $0.contains("optimizer.safetensors") && $0.contains("bytes") })

        // Saving step 2 again replaces the broken one and discards the abandoned step 3.
        try store.save(step: 2, model: model, optimizer: optimizer, state: TrainingState(step: 2))
        #expect(store.latest()?.step == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/step-000000003"))
    }

    @Test func aLeftoverTemporaryDirectoryIsIgnoredAndCleaned() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let warnings = WarningLog()
        let store = try CheckpointStore(directory: dir.path, keepLast: 3, warningHandler: { warnings.add($0) })
        let model = TinyNet(seed: 4)
        try store.save(step: 10, model: model, state: TrainingState(step: 10))
        // A writer killed mid-checkpoint: a temporary directory with a partial file, no manifest.
        let leftover = dir.path + "/.tmp-step-000000020-999999999-17"   // no such process
        try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: leftover + "/model.safetensors", contents: Data([1, 2, 3]))
        #expect(store.checkpoints().map(\.step) == [10])
        #expect(store.latest()?.step == 10)
        // The temporary directory of a writer that is still running (pid 1 always is) is left alone.
        let live = dir.path + "/.tmp-step-000000030-1-99"
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        // Opening the store (as a resumed run does) removes the dead writer's leftover.
        let reopened = try CheckpointStore(directory: dir.path, keepLast: 3, warningHandler: { warnings.add($0) })
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(CheckpointStore.writerProcess(ofTemporaryName: ".tmp-replaced-step-000000030-77") == 77)
        #expect(warnings.all.contains { $0.contains(".tmp-step-000000020") })
        #expect(reopened.latest()?.step == 10)
        // Stray entries that are not checkpoints are skipped.
        try FileManager.default.createDirectory(atPath: dir.path + "/step-000000030", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir.path + "/notes.txt", contents: Data("hi".utf8))
        #expect(reopened.latest()?.step == 10)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/step-000000010").sorted()
                == ["manifest.json", "model.safetensors", "state.json"], "no temporary files inside a checkpoint")
    }

    @Test func badManifestsAreTypedErrorsAndSkipped() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let warnings = WarningLog()
        let store = try CheckpointStore(directory: dir.path, keepLast: nil, warningHandler: { warnings.add($0) })
        let model = TinyNet(seed: 6)
        try store.save(step: 1, model: model, state: TrainingState(step: 1))
        let cases: [(String, String)] = [
            ("not json at all", "not a checkpoint manifest"),
            (#"{"format": "other", "version": 1, "step": 2, "created": "", "files": {}}"#, "format is \"other\""),
            (#"{"format": "omni-checkpoint", "version": 9, "step": 2, "created": "", "files": {}}"#, "version 9"),
            (#"{"format": "omni-checkpoint", "version": 1, "step": 2, "created": "", "files": {"../model.safetensors": {"bytes": 1, "sha256": "00"}}}"#,
             "invalid file name"),
        ]
        for (text, reason) in cases {
            let step2 = dir.path + "/step-000000002"
            try? FileManager.default.removeItem(atPath: step2)
            try FileManager.default.createDirectory(atPath: step2, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: step2 + "/manifest.json"))
            do {
                _ = try Checkpoint(directory: step2)
                Issue.record("manifest \(text) was accepted")
            } catch let error as CheckpointError {
                #expect(error.file == step2 + "/manifest.json" && error.message.contains(reason), "\(error)")
            }
            #expect(store.latest()?.step == 1, "a bad manifest is skipped")
        }
        #expect(warnings.all.contains { $0.contains("step-000000002") })
        // A state file that does not decode as the requested type names the file.
        let checkpoint = try #require(store.latest())
        #expect(throws: CheckpointError.self) { try checkpoint.state([String].self) }
        // Generator words must be 64-bit integers.
        let json = #"{"step":1,"epoch":0,"samples_seen":0,"generators":{"g":["12","x"]},"blobs":{}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrainingState.self, from: Data(json.utf8)) }
    }

    @Test func keepsOnlyTheLastK() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try CheckpointStore(directory: dir.path, keepLast: 2)
        let model = TinyNet(seed: 5)
        for step in [100, 200, 300, 400, 500] { try store.save(step: step, model: model, state: TrainingState(step: step)) }
        #expect(store.checkpoints().map(\.step) == [400, 500])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["step-000000400", "step-000000500"])
        #expect(CheckpointStore.name(forStep: 7) == "step-000000007")
        #expect(CheckpointStore.step(fromName: "step-000000007") == 7 && CheckpointStore.step(fromName: "step-7") == nil)
    }
}
