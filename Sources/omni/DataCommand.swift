// `omni data validate`: every bad line of a JSONL dataset manifest.
import ArgumentParser
import Foundation
import OmniData

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Dataset manifests.",
        subcommands: [DataValidateCommand.self, DataSynthCommand.self])
}

struct DataValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Reports every bad line of a JSONL manifest with its line number and reason.",
        discussion: """
            One sample per line: id, per-modality paths (image, audio, video, dicom, signal; relative \
            to the manifest's folder) or inline text, task, target. Prints one `MANIFEST:LINE: \
            error|warning: reason` line per issue, then a summary; exits 1 when there is an error \
            (warnings alone exit 0, or 1 with --strict).
            """)

    @Argument(help: "The manifest (.jsonl).") var manifest: String
    @Flag(help: "Do not check that the referenced files exist.") var noCheckFiles = false
    @Flag(help: "Fail on warnings too.") var strict = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.data.validate")
        guard FileManager.default.fileExists(atPath: manifest) else { throw CLIError("\(manifest): no such file") }
        let report = Manifest.validate(contentsOf: URL(fileURLWithPath: manifest), checkFiles: !noCheckFiles)
        print(report.formatted(name: manifest))
        if !report.isValid || (strict && report.warningCount > 0) { throw ExitCode(1) }
    }
}
