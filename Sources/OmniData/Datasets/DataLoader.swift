import Foundation
import OmniTensor

/// Decodes, augments and collates samples into batches on background threads, with bounded
/// prefetch, in an order fixed by the seed, and with an exact, resumable position.
///
/// **Order.** The sampler is drawn on one lock, batch after batch, so batch `k` always holds the
/// same indices. A fixed number of worker threads (``Options/workers``) each build whole batches;
/// they may finish out of order, but ``next()`` hands batches out strictly in order. All random
/// augmentation of a sample draws from a generator seeded by (seed, epoch, draw position in the
/// epoch, modality) alone (``DecodeContext/generator``), so results do not depend on the number of
/// workers, the prefetch depth or thread timing.
///
/// **Back-pressure.** At most ``Options/prefetch`` batches are started and not yet handed out;
/// workers wait for ``next()`` to take one before starting another (see ``statistics``).
///
/// **Epochs.** An epoch is the sampler's ``IndexSampler/epochLength`` draws, cut into batches of
/// ``Options/batchSize``; its last batch is smaller unless ``Options/dropLast`` (which draws and
/// discards the remainder). ``next()`` continues through epochs until ``Options/epochs`` (if set).
///
/// **Errors.** A sample that fails to decode (or does not fit the batch) becomes a
/// ``DataLoaderError`` naming the manifest line, sample id, modality and file. With
/// ``ErrorPolicy/fail`` ``next()`` throws it when its batch is due (earlier batches come first)
/// and keeps throwing it; ``state`` still points at that batch. With ``ErrorPolicy/skip`` the
/// sample is left out of its batch and recorded in ``Batch/skipped`` and ``skipped``.
///
/// **Position.** ``state`` (Codable) is the position after the last batch handed out; a loader
/// over the same data given it with ``restore(_:)`` produces exactly the batches the original
/// would have produced next, bit for bit.
///
/// **Shutdown.** ``cancel()`` (and deinit) stops the workers and waits for them; a worker is
/// never interrupted mid-sample, so this takes at most one batch's decode.
///
/// **Threads.** Tensor operations inside a worker still use Omni's kernel thread pool
/// (``OmniTensor/Threads/count``, process-wide) for each call, so workers × pool threads can exceed
/// the cores; on a small machine use fewer workers or a smaller pool (`OMNI_NUM_THREADS`).
///
/// ```swift
/// let manifest = try Manifest.load(contentsOf: URL(fileURLWithPath: "train.jsonl"))
/// let loader = DataLoader(manifest: manifest, decoders: [
///     .text: TextSampleDecoder(tokenizer: tokenizer, maxLength: 128),
///     .image: ImageDecoder(pipeline: .training(size: 224)),
///     .audio: AudioDecoder(output: .logMel(filters: mel80), maxDuration: 30),
/// ], seed: 42, options: .init(batchSize: 32, workers: 2, prefetch: 4))
/// while let batch = try loader.next() {
///     // batch[.image]?.values [B, 3, 224, 224]; batch[.text]?.mask [B, T]
///     checkpoint.loaderState = loader.state
/// }
/// ```
public final class DataLoader: @unchecked Sendable {
    /// What a bad sample does.
    public enum ErrorPolicy: String, Sendable, Codable {
        /// ``DataLoader/next()`` throws the error when the sample's batch is due.
        case fail
        /// The sample is dropped from its batch and recorded.
        case skip
    }

    /// How batches are made.
    public struct Options: Sendable {
        /// Samples per batch (> 0).
        public var batchSize: Int
        /// Background threads decoding batches; 0 decodes on the thread calling ``DataLoader/next()``.
        public var workers: Int
        /// The most batches started and not yet handed out (≥ 1; ignored with 0 workers).
        public var prefetch: Int
        /// Whether an epoch's incomplete last batch is dropped.
        public var dropLast: Bool
        public var errorPolicy: ErrorPolicy
        /// Stop after this many epochs (counted from epoch 0); nil runs on.
        public var epochs: Int?
        /// Decode only these modalities of each sample (others are ignored); nil decodes all a
        /// sample has, and a modality without a decoder is then an error.
        public var modalities: Set<Modality>?

        public init(batchSize: Int, workers: Int = 2, prefetch: Int = 2, dropLast: Bool = false,
                    errorPolicy: ErrorPolicy = .fail, epochs: Int? = nil, modalities: Set<Modality>? = nil) {
            self.batchSize = batchSize; self.workers = workers; self.prefetch = prefetch; self.dropLast = dropLast
            self.errorPolicy = errorPolicy; self.epochs = epochs; self.modalities = modalities
        }
    }

    /// The position after the last batch handed out. Store it in a checkpoint; give it to
    /// ``restore(_:)`` to continue exactly there.
    public struct State: Codable, Sendable, Equatable {
        /// The augmentation seed (adopted on restore).
        public var seed: UInt64
        /// The epoch the next batch belongs to.
        public var epoch: Int
        /// Draws of that epoch already made (`indexInEpoch × batchSize`).
        public var position: Int
        /// Batches of that epoch already made.
        public var indexInEpoch: Int
        /// Batches made since the start (including any left empty by skipped samples).
        public var batchesDelivered: Int
        public var sampler: SamplerState
        /// Checked on restore: the loader must batch the same data the same way.
        public var batchSize: Int
        public var dropLast: Bool
        public var sampleCount: Int
        public var epochLength: Int
    }

    /// Counters that show the prefetch bound at work.
    public struct Statistics: Sendable, Equatable {
        /// Batches a worker (or ``DataLoader/next()``) has started, since creation.
        public var batchesStarted: Int
        /// Batches handed out (or thrown, or skipped as empty), since creation.
        public var batchesDelivered: Int
        /// Started but not yet handed out, now.
        public var ahead: Int
        /// The largest ``ahead`` ever seen: never more than ``Options/prefetch``.
        public var maxAhead: Int
    }

    public let source: any SampleSource
    public let options: Options
    /// Draws per epoch (the sampler's epoch length).
    public let epochLength: Int
    /// Batches per epoch.
    public let batchesPerEpoch: Int
    private let core: Core

    /// A loader over `source`, drawing indices from `sampler` (which it then owns: do not use it
    /// elsewhere), with one decoder per modality; `seed` seeds augmentation.
    public init(source: any SampleSource, sampler: any IndexSampler, decoders: [Modality: any ModalityDecoder],
                seed: UInt64, options: Options) {
        precondition(options.batchSize > 0, "DataLoader: batchSize must be positive, got \(options.batchSize)")
        precondition(options.workers >= 0, "DataLoader: workers must be >= 0, got \(options.workers)")
        precondition(options.prefetch >= 1, "DataLoader: prefetch must be >= 1, got \(options.prefetch)")
        precondition(options.epochs.map { $0 >= 0 } ?? true, "DataLoader: epochs must be >= 0")
        precondition(sampler.sampleCount == source.count,
                     "DataLoader: the sampler draws from \(sampler.sampleCount) samples, the source has \(source.count)")
        let length = sampler.epochLength
        precondition(length > 0, "DataLoader: the sampler's epoch length must be positive")
        precondition(!options.dropLast || length >= options.batchSize,
                     "DataLoader: with dropLast, an epoch of \(length) draws makes no batch of \(options.batchSize)")
        for (m, d) in decoders {
            precondition(d.variableAxes == Array(Set(d.variableAxes)).sorted() && d.variableAxes.allSatisfy { $0 >= 0 },
                         "DataLoader: the \(m.rawValue) decoder's variableAxes \(d.variableAxes) must be ascending, distinct and >= 0")
        }
        self.source = source
        self.options = options
        self.epochLength = length
        self.batchesPerEpoch = options.dropLast ? length / options.batchSize
                                                : (length + options.batchSize - 1) / options.batchSize
        self.core = Core(source: source, sampler: sampler, decoders: decoders, seed: seed, options: options,
                         epochLength: length, batchesPerEpoch: batchesPerEpoch)
    }

    /// A loader over a manifest's samples with a ``ModalitySampler`` (modality ratios `weights`,
    /// seeded with `seed`, which also seeds augmentation).
    public convenience init(manifest: Manifest, decoders: [Modality: any ModalityDecoder], seed: UInt64,
                            weights: ModalityWeights = .default, options: Options) {
        self.init(source: manifest, sampler: ModalitySampler(manifest: manifest, weights: weights, seed: seed),
                  decoders: decoders, seed: seed, options: options)
    }

    deinit { core.shutdown() }

    /// The seed of the generator (``DecodeContext/generator``) that decodes `modality` for draw
    /// `position` of `epoch`: a function of these four values only.
    public static func augmentationSeed(seed: UInt64, epoch: Int, position: Int, modality: Modality) -> UInt64 {
        mixSeed(seed, UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(position)),
                UInt64(Modality.allCases.firstIndex(of: modality)!))
    }

    /// The next batch in order; nil after the last epoch (``Options/epochs``) or after ``cancel()``.
    /// Blocks until the batch is ready. Throws a bad sample's error under ``ErrorPolicy/fail``.
    public func next() throws(DataLoaderError) -> Batch? { try core.next() }

    /// The position after the last batch handed out.
    public var state: State { core.locked { core.state } }

    /// Continues from `state`: prefetched batches are dropped, and the next ``next()`` returns the
    /// batch that followed `state` originally. Throws (changing nothing) when `state` belongs to
    /// different data, batch size or sampler.
    public func restore(_ state: State) throws(DataLoaderError) { try core.restore(state) }

    /// Stops the workers and waits for them (at most the batches they are decoding); ``next()``
    /// then returns nil until ``restore(_:)``.
    public func cancel() { core.shutdown() }

    /// Every sample left out so far under ``ErrorPolicy/skip``, in batch order (batches handed out only).
    public var skipped: [DataLoaderError] { core.locked { core.skipped } }

    public var statistics: Statistics {
        core.locked {
            Statistics(batchesStarted: core.totalStarted, batchesDelivered: core.totalDelivered,
                       ahead: core.issued - core.delivered, maxAhead: core.maxAhead)
        }
    }
}

// MARK: - The shared state of the consumer and the workers

/// One batch to build: which samples, where they sit in the epoch, and the position after it.
private struct Job: Sendable {
    let number: Int
    /// The augmentation seed, read under the lock when the job was made.
    let seed: UInt64
    let epoch: Int
    let indexInEpoch: Int
    let indices: [Int]
    let positions: [Int]
    let stateAfter: DataLoader.State
}

private enum JobResult: Sendable {
    case batch(Batch, DataLoader.State)
    case failure(DataLoaderError)
}

/// Everything the workers touch, behind one condition lock. The loader owns it; workers hold it
/// (not the loader), so dropping the loader runs its deinit, which stops and joins them.
private final class Core: @unchecked Sendable {
    let condition = NSCondition()
    let source: any SampleSource
    let sampler: any IndexSampler
    let decoders: [Modality: any ModalityDecoder]
    let options: DataLoader.Options
    let epochLength: Int
    let batchesPerEpoch: Int

    // Issue side: the next job to make.
    var seed: UInt64
    var cursorEpoch = 0, cursorPosition = 0, cursorIndexInEpoch = 0
    var baseDelivered = 0
    var issued = 0
    var exhausted = false

    // Delivery side.
    var delivered = 0
    var results: [Int: JobResult] = [:]
    var state: DataLoader.State
    var failure: DataLoaderError?
    var skipped: [DataLoaderError] = []

    // Threads.
    var threads: [Thread] = []
    var liveWorkers = 0
    var stopping = false
    var cancelled = false

    // Statistics.
    var totalStarted = 0, totalDelivered = 0, maxAhead = 0

    init(source: any SampleSource, sampler: any IndexSampler, decoders: [Modality: any ModalityDecoder], seed: UInt64,
         options: DataLoader.Options, epochLength: Int, batchesPerEpoch: Int) {
        self.source = source
        self.sampler = sampler
        self.decoders = decoders
        self.seed = seed
        self.options = options
        self.epochLength = epochLength
        self.batchesPerEpoch = batchesPerEpoch
        self.state = DataLoader.State(seed: seed, epoch: 0, position: 0, indexInEpoch: 0, batchesDelivered: 0,
                                      sampler: sampler.samplerState, batchSize: options.batchSize,
                                      dropLast: options.dropLast, sampleCount: source.count, epochLength: epochLength)
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock(); defer { condition.unlock() }
        return try body()
    }

    // MARK: Jobs (called with the lock held)

    /// Draws the next batch's indices, or nil when the epoch limit is reached.
    func makeJob() -> Job? {
        if let limit = options.epochs, cursorEpoch >= limit { return nil }
        let epoch = cursorEpoch, indexInEpoch = cursorIndexInEpoch
        let n = Swift.min(options.batchSize, epochLength - cursorPosition)
        var indices: [Int] = [], positions: [Int] = []
        indices.reserveCapacity(n); positions.reserveCapacity(n)
        for k in 0..<n {
            let index = sampler.next()
            precondition((0..<source.count).contains(index), "DataLoader: the sampler drew index \(index) of \(source.count)")
            indices.append(index)
            positions.append(cursorPosition + k)
        }
        cursorPosition += n
        cursorIndexInEpoch += 1
        if options.dropLast && cursorIndexInEpoch == batchesPerEpoch {
            // The remainder is drawn and discarded so the sampler stays aligned with epochs.
            while cursorPosition < epochLength { _ = sampler.next(); cursorPosition += 1 }
        }
        if cursorPosition == epochLength { cursorEpoch += 1; cursorPosition = 0; cursorIndexInEpoch = 0 }
        let after = DataLoader.State(seed: seed, epoch: cursorEpoch, position: cursorPosition,
                                     indexInEpoch: cursorIndexInEpoch, batchesDelivered: baseDelivered + issued + 1,
                                     sampler: sampler.samplerState, batchSize: options.batchSize,
                                     dropLast: options.dropLast, sampleCount: source.count, epochLength: epochLength)
        let job = Job(number: issued, seed: seed, epoch: epoch, indexInEpoch: indexInEpoch, indices: indices,
                      positions: positions, stateAfter: after)
        issued += 1
        totalStarted += 1
        maxAhead = Swift.max(maxAhead, issued - delivered)
        return job
    }

    // MARK: Consumer

    func next() throws(DataLoaderError) -> Batch? {
        condition.lock(); defer { condition.unlock() }
        while true {
            if let failure { throw failure }
            if cancelled { return nil }
            let result: JobResult
            if options.workers == 0 {
                // Synchronous: build under the lock, so concurrent callers still get batches in order.
                guard let job = makeJob() else { exhausted = true; return nil }
                result = build(job)
            } else {
                if threads.isEmpty && !exhausted { startWorkers() }
                while results[delivered] == nil {
                    if exhausted && delivered == issued { return nil }
                    if cancelled { return nil }
                    condition.wait()
                }
                result = results.removeValue(forKey: delivered)!
            }
            delivered += 1
            totalDelivered += 1
            condition.broadcast()  // room for one more batch
            switch result {
            case .failure(let error):
                failure = error
                stopWorkersLocked()
                throw error
            case .batch(let batch, let after):
                state = after
                skipped += batch.skipped
                if batch.count == 0 { continue }  // every sample was skipped
                return batch
            }
        }
    }

    // MARK: Workers

    func startWorkers() {
        stopping = false
        for i in 0..<options.workers {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "omni.loader.\(i)"
            thread.stackSize = 8 << 20
            threads.append(thread)
            liveWorkers += 1
            thread.start()
        }
    }

    func workerLoop() {
        condition.lock()
        while true {
            while !stopping && !exhausted && issued >= delivered + options.prefetch { condition.wait() }
            if stopping || exhausted { break }
            guard let job = makeJob() else {
                exhausted = true
                condition.broadcast()
                break
            }
            condition.unlock()
            let result = build(job)
            condition.lock()
            if stopping { break }
            results[job.number] = result
            condition.broadcast()
        }
        liveWorkers -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Asks the workers to stop and, unless called from one of them, waits until they have.
    /// Called with the lock held.
    func stopWorkersLocked() {
        stopping = true
        condition.broadcast()
        let onWorker = threads.contains { $0 === Thread.current }
        if !onWorker { while liveWorkers > 0 { condition.wait() } }
        threads = []
        results.removeAll()
    }

    func shutdown() {
        condition.lock()
        cancelled = true
        stopWorkersLocked()
        condition.unlock()
    }

    func restore(_ saved: DataLoader.State) throws(DataLoaderError) {
        func invalid(_ reason: String) -> DataLoaderError { DataLoaderError(kind: .invalidState, source: source.name, reason: reason) }
        guard saved.batchSize == options.batchSize, saved.dropLast == options.dropLast else {
            throw invalid("the state was saved with batch size \(saved.batchSize) (dropLast \(saved.dropLast)), this loader uses \(options.batchSize) (dropLast \(options.dropLast))")
        }
        guard saved.sampleCount == source.count, saved.epochLength == epochLength else {
            throw invalid("the state was saved for \(saved.sampleCount) samples and epochs of \(saved.epochLength), this loader has \(source.count) and \(epochLength)")
        }
        guard saved.epoch >= 0, saved.batchesDelivered >= 0, (0..<epochLength).contains(saved.position),
              saved.position == saved.indexInEpoch * saved.batchSize else {
            throw invalid("the state's position (epoch \(saved.epoch), batch \(saved.indexInEpoch), draw \(saved.position)) is impossible for epochs of \(epochLength)")
        }
        condition.lock(); defer { condition.unlock() }
        // Stopped workers leave drawn-but-undelivered batches behind, so the sampler is always
        // rewound: to `saved`, or back to the current position if `saved` does not fit it.
        stopWorkersLocked()
        do {
            try reset(to: saved)
        } catch {
            let (failed, wasCancelled) = (failure, cancelled)
            try? reset(to: state)
            (failure, cancelled) = (failed, wasCancelled)
            var e = error
            e.source = source.name
            throw e
        }
    }

    /// Puts the sampler and every counter at `target`. Called with the lock held and no workers.
    func reset(to target: DataLoader.State) throws(DataLoaderError) {
        try sampler.restore(samplerState: target.sampler)
        seed = target.seed
        cursorEpoch = target.epoch
        cursorPosition = target.position
        cursorIndexInEpoch = target.indexInEpoch
        baseDelivered = target.batchesDelivered
        issued = 0
        delivered = 0
        results.removeAll()
        exhausted = false
        failure = nil
        cancelled = false
        stopping = false
        state = target
    }

    // MARK: Building a batch (no lock held, except with 0 workers)

    func build(_ job: Job) -> JobResult {
        struct Row { let slot: Int; let index: Int; let sample: ManifestSample; var data: [Modality: Tensor] }
        var rows: [Row] = []
        var skippedRows: [(slot: Int, error: DataLoaderError)] = []
        for (slot, index) in job.indices.enumerated() {
            let sample = source.sample(at: index)
            do {
                let data = try decode(sample, index: index, seed: job.seed, epoch: job.epoch, position: job.positions[slot])
                rows.append(Row(slot: slot, index: index, sample: sample, data: data))
            } catch {
                if options.errorPolicy == .fail { return .failure(error) }
                skippedRows.append((slot, error))
            }
        }
        // Rows that do not fit the batch (e.g. a gray image among RGB ones): the first present
        // row sets the shape; misfits are dropped and the check repeats with the rest.
        while true {
            var misfits: [Int: DataLoaderError] = [:]
            for m in Modality.allCases {
                guard let decoder = decoders[m], rows.contains(where: { $0.data[m] != nil }) else { continue }
                for (r, reason) in Collator.mismatches(rows.map { $0.data[m] }, variableAxes: decoder.variableAxes)
                where misfits[r] == nil {
                    let row = rows[r]
                    misfits[r] = DataLoaderError(kind: .collation, source: source.name, line: source.line(at: row.index),
                                                 index: row.index, sampleID: row.sample.id, modality: m,
                                                 file: row.sample.path(for: m).map { source.resolve($0).path }, reason: reason)
                }
            }
            if misfits.isEmpty { break }
            if options.errorPolicy == .fail { return .failure(misfits[misfits.keys.min()!]!) }
            for r in misfits.keys.sorted(by: >) {
                skippedRows.append((rows[r].slot, misfits[r]!))
                rows.remove(at: r)
            }
        }
        var modalities: [Modality: ModalityBatch] = [:]
        for m in Modality.allCases {
            guard let decoder = decoders[m], rows.contains(where: { $0.data[m] != nil }) else { continue }
            modalities[m] = Collator.collate(rows.map { $0.data[m] }, variableAxes: decoder.variableAxes,
                                             padValue: decoder.padValue)
        }
        let batch = Batch(ids: rows.map(\.sample.id), indices: rows.map(\.index),
                          lines: rows.map { source.line(at: $0.index) }, tasks: rows.map(\.sample.task),
                          targets: rows.map(\.sample.target), epoch: job.epoch, indexInEpoch: job.indexInEpoch,
                          positions: rows.map { job.positions[$0.slot] }, modalities: modalities,
                          skipped: skippedRows.sorted { $0.slot < $1.slot }.map(\.error))
        return .batch(batch, job.stateAfter)
    }

    /// Every modality of one sample through its decoder.
    func decode(_ sample: ManifestSample, index: Int, seed: UInt64, epoch: Int, position: Int) throws(DataLoaderError) -> [Modality: Tensor] {
        var out: [Modality: Tensor] = [:]
        for m in sample.modalities where options.modalities?.contains(m) ?? true {
            let file = sample.path(for: m).map { source.resolve($0) }
            func failure(_ kind: DataLoaderError.Kind, _ reason: String) -> DataLoaderError {
                DataLoaderError(kind: kind, source: source.name, line: source.line(at: index), index: index,
                                sampleID: sample.id, modality: m, file: file?.path, reason: reason)
            }
            guard let decoder = decoders[m] else {
                throw failure(.noDecoder, "no decoder is registered for \(m.rawValue)")
            }
            let input: DecoderInput = file.map { .file($0) } ?? .text(sample.text ?? "")
            let generator = Generator(seed: DataLoader.augmentationSeed(seed: seed, epoch: epoch, position: position, modality: m))
            let context = DecodeContext(sampleID: sample.id, index: index, epoch: epoch, position: position,
                                        modality: m, generator: generator)
            do {
                out[m] = try decoder.decode(input, context: context)
            } catch {
                throw failure(.decode, Self.reason(error, file: file?.path))
            }
        }
        return out
    }

    /// The part of a decoder's error that is not already in the loader error: the reason without
    /// a repeat of the file name.
    static func reason(_ error: any Error, file: String?) -> String {
        switch error {
        case let e as ImageError: return e.file == file ? e.message : e.description
        case let e as AudioError: return e.file == file ? e.message : e.description
        case let e as DataLoaderError: return e.file == nil || e.file == file ? e.reason : "\(e.file!): \(e.reason)"
        default:
            let text = String(describing: error)
            if let file, text.hasPrefix(file + ": ") { return String(text.dropFirst(file.count + 2)) }
            return text
        }
    }
}
