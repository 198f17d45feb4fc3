// `omni bench`: kernel benchmarks, each measured against a reference in the same run.
import ArgumentParser
import OmniTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks Omni's kernels against a reference measured in the same run.",
        discussion: """
            Build in release mode first (swift build -c release). Each benchmark warms up, then \
            interleaves Omni and the reference and reports median, min and max over the runs; \
            the last line of stdout is a JSON object with the results.
            """,
        subcommands: [BenchMatmulCommand.self, BenchOpsCommand.self, BenchEmbedCommand.self, BenchClassifyCommand.self, BenchTrainGPTCommand.self, BenchDataCommand.self, BenchModelCommand.self])
}

/// `--threads`: sets the pool shared by Omni and oneDNN before anything is created.
func applyThreads(_ threads: Int?) -> Int {
    if let threads { Threads.count = threads }
    return Threads.count
}
