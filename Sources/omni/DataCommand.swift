// `omni data validate`: every bad line of a JSONL dataset manifest.
// `omni data tasks`: the built-in instruction tasks (FLAN-style templates).
import ArgumentParser
import Foundation
import OmniData

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Dataset manifests, instruction tasks and the demo corpus.",
        subcommands: [DataValidateCommand.self, DataTasksCommand.self, DataSynthCommand.self])
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

struct DataTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "Lists the built-in instruction tasks: name, category, modalities, phrasings.",
        discussion: """
            FLAN-style instruction templates across modalities (captioning, question answering, \
            retrieval, counting, comparison, report drafting, defect explanation, …), each with several \
            phrasings. The last line of stdout is a JSON object {"count", "tasks": [{name, category, \
            modalities, phrasings, placeholders}]}; with --json it is the only line and each task also \
            carries its templates.
            """)

    @Option(help: ArgumentHelp("Only tasks that need this modality: \(Modality.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "modality"))
    var modality: String?
    @Flag(help: "Print only the JSON line, with every task's input and target templates.") var json = false
    @OptionGroup var global: GlobalOptions

    struct Template: Encodable { let input: String; let target: String }
    struct Entry: Encodable {
        let name: String
        let category: String
        let modalities: [String]
        let phrasings: Int
        let placeholders: [String]
        let summary: String
        let templates: [Template]?
    }
    struct Result: Encodable { let count: Int; let modality: String?; let tasks: [Entry] }

    func run() throws {
        _ = try global.makeLogger("omni.data.tasks")
        var tasks = TaskRegistry.builtIn.tasks
        if let modality {
            guard let m = Modality(rawValue: modality.lowercased()) else {
                throw CLIError("--modality: '\(modality)' is not a modality (\(Modality.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            tasks = tasks.filter { $0.uses(m) }
        }
        let entries = tasks.map { t in
            Entry(name: t.name, category: t.category.rawValue, modalities: t.modalities.map(\.rawValue), phrasings: t.phrasings.count,
                  placeholders: t.placeholders, summary: t.summary,
                  templates: json ? t.phrasings.map { Template(input: $0.input, target: $0.target) } : nil)
        }
        if !json {
            var table = TextTable(["task", "category", "modalities", "phrasings"])
            for e in entries { table.add([e.name, e.category, e.modalities.joined(separator: "+"), String(e.phrasings)]) }
            print(table.render())
            print("\(entries.count) task\(entries.count == 1 ? "" : "s")\(modality.map { " using \($0.lowercased())" } ?? "")")
        }
        try printJSONLine(Result(count: entries.count, modality: modality?.lowercased(), tasks: entries))
    }
}
