// `omni tokenize`: token ids of a text as a JSON array.
import ArgumentParser
import Foundation
import OmniData

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Prints the token ids of TEXT as a JSON array.",
        discussion: """
            --tokenizer takes a Hugging Face tokenizer.json (WordPiece or byte-level BPE, with the \
            file's special tokens) or a tiktoken .tiktoken file, whose split pattern and special \
            tokens come from --kind (gpt2 or cl100k; default guessed from the file name). Special-token \
            text in a tiktoken encoding is treated as plain text. Example: \
            omni tokenize --tokenizer ~/.cache/omni/tiktoken/cl100k_base.tiktoken "hello world"
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case gpt2, cl100k }

    @Option(help: "tokenizer.json or .tiktoken file.") var tokenizer: String
    @Option(help: "Split pattern and special tokens of a .tiktoken file: gpt2 or cl100k.") var kind: Kind?
    @Flag(help: "Leave out the tokenizer's special tokens ([CLS]/[SEP]) for tokenizer.json files.") var noSpecialTokens = false
    @Argument(help: "The text.") var text: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.tokenize")
        let url = URL(fileURLWithPath: tokenizer)
        guard FileManager.default.fileExists(atPath: tokenizer) else { throw CLIError("--tokenizer \(tokenizer): no such file") }
        let ids: [Int]
        do {
            if tokenizer.hasSuffix(".json") {
                if kind != nil { throw CLIError("--kind applies to .tiktoken files only, not \(tokenizer)") }
                ids = try HuggingFaceTokenizer.load(contentsOf: url).encode(text, addSpecialTokens: !noSpecialTokens)
            } else {
                let k = kind ?? (url.lastPathComponent.contains("cl100k") ? .cl100k : .gpt2)
                let t = try k == .cl100k ? TiktokenTokenizer.cl100kBase(contentsOf: url) : TiktokenTokenizer.gpt2(contentsOf: url)
                ids = t.encode(text, addSpecialTokens: false)
            }
        } catch let error as TokenizerError {
            throw CLIError(error.description)
        }
        print("[" + ids.map(String.init).joined(separator: ",") + "]")
    }
}
