// `omni embed`: sentence embeddings from a sentence-transformers model directory.
import ArgumentParser
import Foundation
import OmniModels
import OmniTensor

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Prints one JSON array per text: its L2-normalised sentence embedding.",
        discussion: """
            --model is a sentence-transformers directory (config.json, model.safetensors, \
            tokenizer.json, 1_Pooling/config.json), e.g. all-MiniLM-L6-v2 as fetched by \
            scripts/fetch-assets into ~/.cache/omni/minilm (the default). Texts longer than the \
            model's max_seq_length are truncated. With no TEXT, one text per line is read from stdin.
            """)

    @Option(help: "Model directory (default: the fetched all-MiniLM-L6-v2).") var model: String?
    @Option(help: "Texts per forward pass.") var batchSize = 32
    @Option(help: "Threads (default: OMNI_NUM_THREADS, else the number of cores).") var threads: Int?
    @Argument(help: "Texts to embed.") var texts: [String] = []
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.embed")
        guard batchSize > 0 else { throw CLIError("--batch-size must be positive, got \(batchSize)") }
        _ = applyThreads(threads)
        let dir = model.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? Assets.file("minilm")
        guard FileManager.default.fileExists(atPath: dir.path) else {
            throw CLIError("--model \(dir.path): no such directory (scripts/fetch-assets fetches all-MiniLM-L6-v2)")
        }
        var inputs = texts
        if inputs.isEmpty {
            while let line = readLine() { if !line.isEmpty { inputs.append(line) } }
        }
        let embedder: SentenceEmbedder
        do { embedder = try SentenceEmbedder(directory: dir) } catch { throw CLIError("\(error)") }
        for v in embedder.embed(inputs, batchSize: batchSize) {
            print("[" + v.map { "\($0)" }.joined(separator: ",") + "]")
        }
    }
}

struct BenchEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentences per second of a sentence-transformers model (tokenizing included).",
        discussion: "The PyTorch comparison runs in scripts/bench-minilm.sh, which calls this command and sentence-transformers alternately.")

    @Option(help: "Model directory (default: the fetched all-MiniLM-L6-v2).") var model: String?
    @Option(help: "Texts per forward pass.") var batchSize = 32
    @Option(help: "Threads.") var threads = 2
    @Option(help: "Timed runs.") var runs = 7
    @Option(help: "Also write the benchmark's sentences to this JSON file (for the PyTorch side of scripts/bench-minilm.sh).")
    var sentencesOut: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.bench.embed")
        guard batchSize > 0, threads > 0, runs > 0 else { throw CLIError("--batch-size, --threads and --runs must be positive") }
        let dir = model.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? Assets.file("minilm")
        let embedder: SentenceEmbedder
        do { embedder = try SentenceEmbedder(directory: dir) } catch { throw CLIError("\(error)") }
        if let sentencesOut {
            let data = try JSONEncoder().encode(SentenceEmbedder.benchmarkSentences)
            do { try data.write(to: URL(fileURLWithPath: sentencesOut)) } catch { throw CLIError("--sentences-out \(sentencesOut): \(error.localizedDescription)") }
        }
        let result = embedder.benchmark(batchSize: batchSize, threads: threads, runs: runs)
        print(result.summary)
        try printJSONLine(result)
    }
}
