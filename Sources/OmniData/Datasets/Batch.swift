import OmniTensor

/// One modality of a ``Batch``: the samples' tensors stacked and padded, with masks.
public struct ModalityBatch: Sendable {
    /// `[B, …]`: each sample's tensor, padded at the end of every variable axis to the batch's
    /// largest size with the decoder's pad value; samples without this modality are all padding.
    public let values: Tensor
    /// Bool `[B, L₁, …]`, one axis per variable axis of the decoder (``variableAxes``), sized as in
    /// ``values``: true at real elements, false at padding and for absent samples. `[B]` (equal to
    /// ``present``) when no axis varies.
    public let mask: Tensor
    /// Bool `[B]`: true where the sample has this modality.
    public let present: Tensor
    /// Per sample, its size along each variable axis (zeros for absent samples).
    public let lengths: [[Int]]
    /// The decoder's variable axes, counted without the batch axis.
    public let variableAxes: [Int]

    public init(values: Tensor, mask: Tensor, present: Tensor, lengths: [[Int]], variableAxes: [Int]) {
        self.values = values; self.mask = mask; self.present = present
        self.lengths = lengths; self.variableAxes = variableAxes
    }
}

/// A collated batch from a ``DataLoader``: per-modality tensors and masks plus each sample's id,
/// task and target, in sampler order.
///
/// ```swift
/// while let batch = try loader.next() {
///     let tokens = batch[.text]?.values        // [B, T] int64
///     let keyPadding = batch[.text]?.mask      // [B, T] bool, true = real token
///     let hasImage = batch.presence(of: .image) // [B] bool
/// }
/// ```
public struct Batch: Sendable {
    /// Sample ids, one per row.
    public let ids: [String]
    /// The samples' indices in the ``SampleSource``.
    public let indices: [Int]
    /// The samples' manifest lines (0 when the source has none).
    public let lines: [Int]
    public let tasks: [String?]
    /// Targets as written in the manifest (encoding them is the task head's job).
    public let targets: [ManifestTarget?]
    /// The epoch this batch belongs to.
    public let epoch: Int
    /// The batch's number within its epoch (0-based).
    public let indexInEpoch: Int
    /// Each row's draw number within the epoch (the augmentation seed uses it).
    public let positions: [Int]
    /// Per modality present in at least one row.
    public let modalities: [Modality: ModalityBatch]
    /// Samples drawn for this batch but left out under ``DataLoader/ErrorPolicy/skip``.
    public let skipped: [DataLoaderError]

    public init(ids: [String], indices: [Int], lines: [Int], tasks: [String?], targets: [ManifestTarget?],
                epoch: Int, indexInEpoch: Int, positions: [Int], modalities: [Modality: ModalityBatch],
                skipped: [DataLoaderError]) {
        self.ids = ids; self.indices = indices; self.lines = lines; self.tasks = tasks; self.targets = targets
        self.epoch = epoch; self.indexInEpoch = indexInEpoch; self.positions = positions
        self.modalities = modalities; self.skipped = skipped
    }

    /// Number of rows.
    public var count: Int { ids.count }

    /// The collated data of `modality`, or nil when no row has it.
    public subscript(modality: Modality) -> ModalityBatch? { modalities[modality] }

    /// Bool `[B]`: which rows have `modality` (all false when none has).
    public func presence(of modality: Modality) -> Tensor {
        modalities[modality]?.present ?? Tensor([Bool](repeating: false, count: count), shape: [count])
    }
}
