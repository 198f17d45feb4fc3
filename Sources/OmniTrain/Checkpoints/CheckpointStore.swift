// Checkpoints that a kill at any moment cannot break (DESIGN.md §8): each one is written into a
// temporary directory, every file and the directory are fsync'ed, the manifest with checksums goes
// last, and one rename publishes the directory. A reader therefore sees either no checkpoint or a
// complete one, and a checksum catches anything damaged afterwards.
import Foundation
import OmniNN
import OmniOptim
import OmniTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The checkpoints of one run, in a directory of their own.
///
/// Layout: `<directory>/step-000001200/` with `model.safetensors`, `optimizer.safetensors`,
/// `state.json` and `manifest.json` (see ``Checkpoint``). A checkpoint is written as
/// `.tmp-step-000001200-<pid>-<random>/` and renamed into place when complete; leftovers of a
/// writer that died (a `.tmp-*` entry whose process is gone) are ignored by readers and removed
/// when a store is opened or saves.
///
/// - ``latest()`` returns the newest checkpoint whose files match their checksums; a corrupt or
///   incomplete newer one is skipped with a warning, so training resumes from the last good one.
/// - After each save only the newest ``keepLast`` checkpoints are kept.
/// - Saving step s discards checkpoints of later steps: they belong to a timeline that was
///   abandoned when training resumed from an earlier checkpoint, and ``latest()`` must not return
///   them.
///
/// One process writes a store at a time.
///
/// ```swift
/// let store = try CheckpointStore(directory: "runs/demo/checkpoints", keepLast: 3)
/// try store.save(step: 1200, model: model, optimizer: optimizer, state: TrainingState(step: 1200))
/// if let last = store.latest() { try last.loadModel(into: model) }
/// ```
public final class CheckpointStore: @unchecked Sendable {
    /// The directory holding the checkpoints.
    public let directory: String
    /// How many of the newest checkpoints survive a save (nil: all).
    public let keepLast: Int?
    /// Receives warnings (a skipped corrupt checkpoint, a leftover temporary directory removed).
    public let warningHandler: @Sendable (String) -> Void

    static let temporaryPrefix = ".tmp-"
    static let replacedPrefix = ".tmp-replaced-"

    /// Opens (creating it if needed) a store and removes leftover temporary directories.
    public init(directory: String, keepLast: Int? = 3,
                warningHandler: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) }) throws {
        precondition(keepLast.map { $0 >= 1 } ?? true, "CheckpointStore: keepLast must be at least 1, got \(keepLast!)")
        self.directory = directory
        self.keepLast = keepLast
        self.warningHandler = warningHandler
        try DurableFile.makeDirectory(directory)
        try removeTemporaryEntries()
    }

    /// The directory name for a step: `step-` and the step zero-padded to 9 digits.
    public static func name(forStep step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: Swift.max(0, 9 - digits.count)) + digits
    }

    static func step(fromName name: String) -> Int? {
        guard name.hasPrefix("step-"), let s = Int(name.dropFirst(5)), s >= 0, self.name(forStep: s) == name else { return nil }
        return s
    }

    // MARK: Writing

    /// Writes a checkpoint of `model` (all parameters and buffers), `optimizer` (if any) and
    /// `state` for `step`, atomically, then prunes. Returns the checkpoint.
    @discardableResult
    public func save<State: Encodable>(step: Int, model: Module, optimizer: (any Optimizer)? = nil, state: State) throws -> Checkpoint {
        precondition(step >= 0, "CheckpointStore.save: step must be non-negative, got \(step)")
        try removeTemporaryEntries()
        let final = directory + "/" + Self.name(forStep: step)
        let temporary = directory + "/" + Self.temporaryPrefix + Self.name(forStep: step) + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try DurableFile.makeDirectory(temporary)
        do {
            // Each file is written and fsync'ed in the temporary directory (SafeTensors.write is
            // itself atomic), then checksummed from disk.
            try write(model.namedParameters().map { ($0.path, $0.tensor) }, to: temporary + "/" + Checkpoint.modelFile)
            if let optimizer {
                let stateDict = optimizer.stateDict()
                try write(stateDict.keys.sorted().map { ($0, stateDict[$0]!) }, to: temporary + "/" + Checkpoint.optimizerFile)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            let stateBytes: [UInt8]
            do { stateBytes = Array(try encoder.encode(state)) + [0x0A] } catch {
                throw CheckpointError(file: temporary + "/" + Checkpoint.stateFile, "cannot encode the training state: \(error)")
            }
            try DurableFile.create(temporary + "/" + Checkpoint.stateFile, bytes: stateBytes)

            var files: [String: CheckpointManifest.FileEntry] = [:]
            for name in [Checkpoint.modelFile, Checkpoint.optimizerFile, Checkpoint.stateFile] {
                let file = temporary + "/" + name
                guard FileManager.default.fileExists(atPath: file) else { continue }
                let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
                files[name] = .init(bytes: size, sha256: try SHA256.hexDigest(ofFile: file))
            }
            let manifest = CheckpointManifest(format: CheckpointManifest.formatName, version: CheckpointManifest.currentVersion,
                                              step: step, created: Self.timestamp(), files: files)
            try DurableFile.create(temporary + "/" + CheckpointManifest.fileName, bytes: try manifest.encoded())
            try DurableFile.syncDirectory(temporary)

            // Publish. A checkpoint of the same step is moved aside first (rename cannot replace
            // a non-empty directory); a crash in between leaves it as a temporary entry.
            if FileManager.default.fileExists(atPath: final) {
                let aside = directory + "/" + Self.replacedPrefix + Self.name(forStep: step) + "-\(getpid())"
                try DurableFile.rename(final, to: aside)
                try DurableFile.rename(temporary, to: final)
                try? FileManager.default.removeItem(atPath: aside)
            } else {
                try DurableFile.rename(temporary, to: final)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        try discardCheckpoints(after: step)
        try prune()
        return try Checkpoint(directory: final)
    }

    private func write(_ tensors: [(String, Tensor)], to path: String) throws {
        do { try SafeTensors.write(tensors.map { (name: $0.0, tensor: $0.1) }, metadata: ["format": "pt"], to: path) } catch let e as CheckpointError {
            throw e
        } catch {
            throw CheckpointError(file: path, "\(error)")
        }
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date())
    }

    // MARK: Reading

    /// The published checkpoint directories whose manifest reads, oldest step first (files are
    /// not verified; see ``latest()``). Entries that are not checkpoints are reported and skipped.
    public func checkpoints() -> [Checkpoint] {
        var out: [Checkpoint] = []
        for (step, name) in stepDirectories() {
            do {
                let c = try Checkpoint(directory: directory + "/" + name)
                if c.step == step { out.append(c) } else { warningHandler("\(directory)/\(name): manifest says step \(c.step); skipped") }
            } catch {
                warningHandler("skipping checkpoint \(directory)/\(name): \(error)")
            }
        }
        return out
    }

    /// The newest checkpoint whose files all match their size and SHA-256, or nil. Each newer
    /// checkpoint that fails is skipped with a warning naming the file at fault.
    public func latest() -> Checkpoint? {
        for c in checkpoints().reversed() {
            do {
                try c.verify()
                return c
            } catch {
                warningHandler("checkpoint \(c.directory) is damaged and was skipped (\(error)); falling back to an earlier one")
            }
        }
        return nil
    }

    /// `step-N` directories by step, ascending.
    func stepDirectories() -> [(Int, String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { n in Self.step(fromName: n).flatMap { DurableFile.isDirectory(directory + "/" + n) ? ($0, n) : nil } }
            .sorted { $0.0 < $1.0 }
    }

    // MARK: Cleaning

    /// Removes all but the newest ``keepLast`` checkpoint directories.
    public func prune() throws {
        guard let keepLast else { return }
        let all = stepDirectories()
        for (_, name) in all.dropLast(keepLast) { try remove(directory + "/" + name) }
    }

    private func discardCheckpoints(after step: Int) throws {
        for (s, name) in stepDirectories() where s > step {
            warningHandler("removing \(directory)/\(name): it is newer than the checkpoint just saved (step \(step)) and belongs to an abandoned run")
            try remove(directory + "/" + name)
        }
    }

    /// Removes temporary entries left by writers that no longer run. The writer's process id is
    /// part of the name; an entry of another live process (a training run writing while, say, an
    /// evaluation opens the store) is left alone.
    private func removeTemporaryEntries() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(Self.temporaryPrefix) {
            if let pid = Self.writerProcess(ofTemporaryName: name), pid != getpid(), Self.isRunning(pid) { continue }
            warningHandler("removing \(directory)/\(name), left over by an interrupted checkpoint write")
            try remove(directory + "/" + name)
        }
    }

    /// The process id in `.tmp-step-N-<pid>-<random>` or `.tmp-replaced-step-N-<pid>`.
    static func writerProcess(ofTemporaryName name: String) -> pid_t? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard let stepIndex = parts.firstIndex(of: "step"), stepIndex + 2 < parts.count else { return nil }
        return pid_t(parts[stepIndex + 2])
    }

    static func isRunning(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    private func remove(_ path: String) throws {
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw CheckpointError(file: path, "cannot remove: \(error.localizedDescription)")
        }
    }
}
