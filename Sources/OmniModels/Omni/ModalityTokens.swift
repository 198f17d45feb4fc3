// The seam between the modality encoders and fusion (DESIGN.md §3): every encoder turns a batch of
// its own inputs into a padded token sequence plus a mask; the router, co-attention and heads only
// ever see `ModalityTokens`.
import OmniData
import OmniNN
import OmniTensor

// `Modality` (text, image, audio, video, dicom, signal) is OmniData's, shared with manifests.

/// One modality's encoded batch.
///
/// - `tokens`: float32 [B, N, D] — padded positions hold finite values (usually zeros) and must be
///   ignored through `mask`.
/// - `mask`: bool [B, N], true for a real token. A sample whose row is all false has no input of
///   this modality (the router gives it gate 0).
public struct ModalityTokens: @unchecked Sendable {
    public var tokens: Tensor
    public var mask: Tensor

    public init(tokens: Tensor, mask: Tensor) {
        precondition(tokens.rank == 3, "ModalityTokens: tokens \(tokens.shape) must be [B, N, D]")
        precondition(mask.dtype == .bool && mask.shape == [tokens.shape[0], tokens.shape[1]],
                     "ModalityTokens: mask \(mask.shape) (\(mask.dtype)) must be bool [\(tokens.shape[0]), \(tokens.shape[1])]")
        self.tokens = tokens
        self.mask = mask
    }

    public var batchSize: Int { tokens.shape[0] }
    public var length: Int { tokens.shape[1] }
    public var dimension: Int { tokens.shape[2] }
}

/// A module that encodes one modality into ``ModalityTokens``. Each encoder defines its own batch
/// type (padded inputs plus lengths or masks) and documents its output length.
public protocol ModalityEncoder: Module {
    associatedtype Batch
    /// Feature size D of the produced tokens.
    var outputDimension: Int { get }
    func callAsFunction(_ batch: Batch) -> ModalityTokens
}

extension ModalityTokens {
    /// Mean of the real tokens: [B, D]. A sample with no real token gets zeros.
    public func pooled() -> Tensor {
        let m = mask.converted(to: .float32).unsqueezed(axis: -1)          // [B, N, 1]
        let count = m.sum(axis: 1).clamped(min: 1)                         // [B, 1]
        return (tokens * m).sum(axis: 1) / count                          // [B, D]
    }

    /// Whether each sample has this modality at all: bool [B].
    public var isPresent: Tensor {
        if length == 0 { return Tensor.zeros([batchSize], dtype: .bool) }
        return mask.converted(to: .float32).max(axis: 1).compared(.greater, 0)
    }

    /// The same tokens with padded positions set to exactly zero.
    public func zeroingPadding() -> ModalityTokens {
        ModalityTokens(tokens: tokens * mask.converted(to: .float32).unsqueezed(axis: -1), mask: mask)
    }
}
