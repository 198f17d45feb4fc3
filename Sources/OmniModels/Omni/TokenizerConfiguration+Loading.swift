// The tokenizer of a model folder, as `config.json`'s `tokenizer` describes it.
import Foundation
import OmniData

extension TokenizerConfiguration {
    /// The split pattern of a `tiktoken` file: `pattern` given as a ``OmniData/SplitPattern`` name
    /// (`gpt2`, `cl100k`) or as its regular expression; GPT-2's when absent (``OmniData/BPETrainer``'s
    /// default).
    public var splitPattern: SplitPattern? {
        guard let pattern else { return .gpt2 }
        return SplitPattern(rawValue: pattern) ?? SplitPattern(regex: pattern)
    }

    /// Loads ``file`` from the model folder `directory`.
    ///
    /// - Throws: ``OmniModelError`` naming the file when it is missing or the pattern is unknown;
    ///   the tokenizer's own errors (naming the file) when it cannot be parsed.
    ///
    /// ```swift
    /// let tokenizer = try model.configuration.tokenizer?.load(from: folder)
    /// let ids = tokenizer?.encode("what colour is the circle?", addSpecialTokens: true)
    /// ```
    public func load(from directory: URL) throws -> any Tokenizer {
        let url = directory.appending(path: file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw OmniModelError(file: url.path, "missing: config.json's tokenizer.file names it")
        }
        switch kind {
        case .tiktoken:
            guard let splitPattern else {
                throw OmniModelError(file: directory.appending(path: OmniModel.configurationFile).path,
                                     "tokenizer.pattern '\(pattern ?? "")' is not a known split pattern (\(SplitPattern.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return try TiktokenTokenizer(contentsOf: url, pattern: splitPattern, specialTokens: specialTokens)
        case .huggingFace:
            return try HuggingFaceTokenizer.load(contentsOf: url)
        }
    }
}
