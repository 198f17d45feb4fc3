import Foundation
import OmniTensor

/// What a decoder reads for one modality of one sample.
public enum DecoderInput: Sendable, Equatable {
    /// Inline text (the manifest's `text`).
    case text(String)
    /// A file (or, for DICOM series, a folder), already resolved against the manifest's folder.
    case file(URL)
}

/// Where a decode happens: the sample, its place in the epoch, and the generator all of its
/// random augmentation must draw from.
public struct DecodeContext: Sendable {
    public let sampleID: String
    /// Index of the sample in its ``SampleSource``.
    public let index: Int
    public let epoch: Int
    /// Draw number within the epoch (0-based), unique per sample occurrence.
    public let position: Int
    public let modality: Modality
    /// A generator seeded from (loader seed, epoch, position, modality) alone and used by this
    /// decode only, so augmentation does not depend on which thread runs it or in what order.
    public let generator: Generator

    public init(sampleID: String, index: Int, epoch: Int, position: Int, modality: Modality, generator: Generator) {
        self.sampleID = sampleID; self.index = index; self.epoch = epoch; self.position = position
        self.modality = modality; self.generator = generator
    }
}

/// Turns one modality of a sample into a tensor: decoding, preprocessing and augmentation.
///
/// A ``DataLoader`` holds one decoder per modality (`[Modality: any ModalityDecoder]`), so a
/// decoder for video, DICOM or signals plugs in without changing the loader. Shipped decoders:
/// ``TextSampleDecoder``, ``ImageDecoder``, ``AudioDecoder``; ``ClosureDecoder`` wraps a closure.
///
/// Samples are stacked along a new batch axis. Axes listed in ``variableAxes`` may differ in
/// size between samples and are padded with ``padValue`` to the batch's largest size, with a
/// mask marking the real elements; every other axis must be the same for all samples.
///
/// Errors a decoder throws (``ImageError``, ``AudioError``, anything) become a
/// ``DataLoaderError`` naming the sample, line, modality and file.
public protocol ModalityDecoder: Sendable {
    /// Axes of the decoded tensor (without the batch axis) whose size varies between samples,
    /// ascending, e.g. `[0]` for token ids `[T]`, `[1]` for a mel spectrogram `[nMels, T]`,
    /// `[1, 2]` for images `[C, H, W]` of different sizes.
    var variableAxes: [Int] { get }
    /// The value padded positions (and samples without this modality) are filled with.
    var padValue: Double { get }
    /// The tensor for `input`. Must be deterministic given `input` and `context.generator`.
    func decode(_ input: DecoderInput, context: DecodeContext) throws -> Tensor
}

/// A decoder given as a closure, e.g. for a modality whose decoder lives elsewhere.
///
/// ```swift
/// let signal = ClosureDecoder(variableAxes: [1]) { input, context in
///     guard case .file(let url) = input else { throw SignalError(...) }
///     return try Signal(contentsOf: url).tensor()     // [channels, T]
/// }
/// ```
public struct ClosureDecoder: ModalityDecoder {
    public let variableAxes: [Int]
    public let padValue: Double
    let body: @Sendable (DecoderInput, DecodeContext) throws -> Tensor

    public init(variableAxes: [Int], padValue: Double = 0,
                _ body: @escaping @Sendable (DecoderInput, DecodeContext) throws -> Tensor) {
        self.variableAxes = variableAxes
        self.padValue = padValue
        self.body = body
    }

    public func decode(_ input: DecoderInput, context: DecodeContext) throws -> Tensor {
        try body(input, context)
    }
}
