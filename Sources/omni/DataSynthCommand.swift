// `omni data synth`: writes the built-in demo corpus (rendered scenes, spoken captions, motion
// clips, vibration recordings, questions) with train / validation / test manifests.
import ArgumentParser
import Foundation
import OmniData

struct DataSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generates the demo corpus offline and deterministically from a seed.",
        discussion: """
            Writes images/, audio/ (espeak-ng speech, 16 kHz), video/ (lossless FFV1 .mkv clips), \
            signals/ and the manifests \
            train.jsonl, validation.jsonl, test.jsonl plus corpus.json into --out. The same seed \
            gives the same corpus. The last line of stdout is the JSON summary.
            """)

    @Option(help: "Output folder (created if missing).") var out: String
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Training scenes (image + caption + question).") var scenes: Int?
    @Option(help: "Training speech clips.") var speech: Int?
    @Option(help: "Worker threads.") var threads = 2
    @Flag(help: "A tiny corpus (for tests).") var small = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let log = try global.makeLogger("omni.data.synth")
        var c = small ? DemoCorpusConfiguration.small : DemoCorpusConfiguration()
        c.seed = seed
        c.threads = threads
        if let scenes { guard scenes > 0 else { throw CLIError("--scenes must be positive") }; c.trainScenes = scenes }
        if let speech { guard speech > 0 else { throw CLIError("--speech must be positive") }; c.trainSpeech = speech }
        let summary: DemoCorpusSummary
        do {
            summary = try DemoCorpus.generate(into: out, configuration: c) { log.info("\($0)") }
        } catch {
            throw CLIError("\(out): \(error)")
        }
        print("demo corpus in \(out): " + summary.manifests.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) lines" }.joined(separator: ", ")
              + "; files " + summary.files.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
              + String(format: "; %.1f s", summary.seconds))
        try printJSONLine(summary)
    }
}
