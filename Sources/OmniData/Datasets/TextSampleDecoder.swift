import Foundation
import OmniTensor

/// Inline text to int64 token ids `[T]` (variable length, padded with the pad id).
///
/// An optional `augment` closure rewrites the text first (e.g. synonym replacement), drawing from
/// the sample's generator.
///
/// ```swift
/// let text = TextSampleDecoder(tokenizer: try HuggingFaceTokenizer.load(contentsOf: url), maxLength: 128)
/// ```
public struct TextSampleDecoder: ModalityDecoder {
    public let variableAxes = [0]
    public let padValue: Double
    /// The pad id as an integer.
    public let padID: Int
    let tokenize: @Sendable (String) -> [Int]
    let augment: (@Sendable (String, Generator) -> String)?

    /// Ids from `tokenize`, cut to `maxLength` when given (the end is dropped).
    public init(padID: Int = 0, maxLength: Int? = nil, augment: (@Sendable (String, Generator) -> String)? = nil,
                tokenize: @escaping @Sendable (String) -> [Int]) {
        precondition(maxLength.map { $0 > 0 } ?? true, "TextSampleDecoder: maxLength must be positive, got \(maxLength!)")
        self.padID = padID
        self.padValue = Double(padID)
        self.augment = augment
        if let limit = maxLength {
            self.tokenize = { @Sendable text in Array(tokenize(text).prefix(limit)) }
        } else {
            self.tokenize = tokenize
        }
    }

    /// Ids from `tokenizer`, with its special tokens when `addSpecialTokens`, truncated to
    /// `maxLength` ids keeping the special tokens. The pad id is `padID`, else the tokenizer's own
    /// padding id, else 0.
    public init(tokenizer: any Tokenizer, addSpecialTokens: Bool = true, maxLength: Int? = nil, padID: Int? = nil,
                augment: (@Sendable (String, Generator) -> String)? = nil) {
        let options = EncodingOptions(addSpecialTokens: addSpecialTokens,
                                      truncation: maxLength.map { Truncation(maxLength: $0) }, padding: nil)
        self.init(padID: padID ?? tokenizer.defaultEncodingOptions.padding?.padID ?? 0, augment: augment) { text in
            tokenizer.encode(text, options: options).ids
        }
    }

    public func decode(_ input: DecoderInput, context: DecodeContext) throws -> Tensor {
        let text: String
        switch input {
        case .text(let t): text = t
        case .file(let url):
            do { text = try String(contentsOf: url, encoding: .utf8) } catch {
                throw DataLoaderError(kind: .decode, file: url.path, reason: "cannot read UTF-8 text (\(error.localizedDescription))")
            }
        }
        let ids = tokenize(augment?(text, context.generator) ?? text)
        return Tensor(ids, shape: [ids.count], dtype: .int64)  // [T]
    }
}
