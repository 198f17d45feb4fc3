import Foundation
import OmniNN
import OmniOptim
import OmniTensor

/// One completed checkpoint directory: its manifest, and loading of what it holds.
///
/// Files (names in ``CheckpointStore``): `model.safetensors` (every parameter and buffer by dotted
/// key), `optimizer.safetensors` (``OmniOptim/Optimizer/stateDict()``, when an optimizer was saved),
/// `state.json` (the Codable training state) and `manifest.json`.
///
/// ```swift
/// if let checkpoint = store.latest() {
///     try checkpoint.loadModel(into: model)
///     try checkpoint.loadOptimizer(into: optimizer)
///     let state = try checkpoint.state(TrainingState.self)
/// }
/// ```
public struct Checkpoint: Sendable, Equatable {
    /// The checkpoint directory.
    public let directory: String
    /// Its manifest.
    public let manifest: CheckpointManifest

    public static let modelFile = "model.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "state.json"

    /// The training step it was taken at.
    public var step: Int { manifest.step }

    /// Opens a checkpoint directory (reads its manifest; ``verify()`` checks the files).
    public init(directory: String) throws {
        self.directory = directory
        manifest = try CheckpointManifest.read(directory: directory)
    }

    /// The path of one of its files.
    public func path(_ file: String) -> String { directory + "/" + file }

    /// Checks that every file the manifest lists exists with the listed size and SHA-256; throws
    /// naming the first file that does not.
    public func verify() throws {
        for name in manifest.files.keys.sorted() {
            let entry = manifest.files[name]!, file = path(name)
            let size: Int
            do {
                size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? -1
            } catch {
                throw CheckpointError(file: file, "missing")
            }
            guard size == entry.bytes else { throw CheckpointError(file: file, "has \(size) bytes, the manifest says \(entry.bytes)") }
            let digest = try SHA256.hexDigest(ofFile: file)
            guard digest == entry.sha256 else { throw CheckpointError(file: file, "SHA-256 \(digest) does not match the manifest's \(entry.sha256)") }
        }
    }

    /// The tensors of one of its safetensors files, copied out of the file (so the checkpoint can
    /// be pruned while they are in use), in file order.
    public func tensors(_ file: String) throws -> [(name: String, tensor: Tensor)] {
        guard manifest.files[file] != nil else { throw CheckpointError(file: path(file), "not part of this checkpoint") }
        let contents: TensorFileContents
        do { contents = try SafeTensors.read(contentsOf: path(file)) } catch { throw CheckpointError(file: path(file), "\(error)") }
        return contents.tensors.map { name, t in
            (name, t.withUnsafeBytes { Tensor(copying: $0, shape: t.shape, dtype: t.dtype) })
        }
    }

    /// Loads the model weights strictly: every parameter and buffer must be present with its
    /// shape, and nothing else (the error lists every problem).
    public func loadModel(into model: Module) throws {
        let weights = Dictionary(try tensors(Self.modelFile), uniquingKeysWith: { a, _ in a })
        try model.load(weights, strict: true, file: path(Self.modelFile))
    }

    /// Whether the checkpoint holds optimizer state.
    public var hasOptimizerState: Bool { manifest.files[Self.optimizerFile] != nil }

    /// Restores the optimizer's state (moments, step count).
    public func loadOptimizer(into optimizer: any Optimizer) throws {
        let state = Dictionary(try tensors(Self.optimizerFile), uniquingKeysWith: { a, _ in a })
        do { try optimizer.load(stateDict: state) } catch { throw CheckpointError(file: path(Self.optimizerFile), "\(error)") }
    }

    /// The training state saved with the checkpoint.
    public func state<State: Decodable>(_ type: State.Type) throws -> State {
        let file = path(Self.stateFile)
        guard manifest.files[Self.stateFile] != nil, let data = FileManager.default.contents(atPath: file) else {
            throw CheckpointError(file: file, "missing")
        }
        do { return try JSONDecoder().decode(State.self, from: data) } catch {
            throw CheckpointError(file: file, "cannot decode \(State.self): \(error)")
        }
    }
}
