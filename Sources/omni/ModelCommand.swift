// `omni model describe CONFIG|DIR|PRESET`: the module tree of an omni-modal model with parameter
// counts per encoder, the fusion and each head.
import ArgumentParser
import Foundation
import OmniModels
import OmniNN
import OmniTensor

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Omni-modal model configurations and folders.",
        subcommands: [ModelDescribeCommand.self])
}

/// Resolves a preset name, a config.json or a model folder to a configuration.
func loadModelConfiguration(_ source: String) throws -> OmniModelConfiguration {
    if let preset = OmniModelConfiguration.preset(source) { return preset }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
        throw CLIError("\(source): no such file or folder, and not a preset (\(OmniModelConfiguration.presetNames.joined(separator: ", ")))")
    }
    let url = isDirectory.boolValue ? URL(fileURLWithPath: source).appending(path: OmniModel.configurationFile)
                                    : URL(fileURLWithPath: source)
    let configuration: OmniModelConfiguration
    do { configuration = try OmniModelConfiguration.load(contentsOf: url) } catch { throw CLIError("\(error)") }
    let problems = configuration.problems
    guard problems.isEmpty else { throw CLIError("\(url.path): " + problems.joined(separator: "; ")) }
    return configuration
}

struct ModelDescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Prints the module tree and parameter counts of a preset, config.json or model folder.",
        discussion: """
            SOURCE is a preset (tiny, small, base), a config.json, or a model folder holding one. \
            The tree lists every module with its checkpoint key and parameter count; the table \
            groups them into encoders, fusion and heads. The last line of stdout is JSON.
            """)

    @Argument(help: "Preset name, config.json or model folder.") var source: String
    @Option(help: "Tree depth to print (0: none).") var depth = 2
    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        let name: String
        let dimension: Int
        let modalities: [String]
        let parameters: [String: Int]
        let groups: [String: Int]
        let total: Int
    }

    func run() throws {
        _ = try global.makeLogger("omni.model.describe")
        let configuration = try loadModelConfiguration(source)
        let model = OmniModel(configuration, generator: Generator(seed: 0))
        if depth > 0 {
            var lines: [String] = []
            func walk(_ m: Module, _ key: String, _ level: Int) {
                lines.append(String(repeating: "  ", count: level) + (key.isEmpty ? "" : key + ": ") + m.summary
                             + "  " + formatCount(m.parameterCount))
                guard level < depth else { return }
                for (k, c) in m.namedChildren() { walk(c, k, level + 1) }
            }
            walk(model, "", 0)
            print(lines.joined(separator: "\n"))
            print("")
        }
        let parts = model.parameterCounts()
        func group(_ key: String) -> String {
            if key.hasSuffix("_encoder") { return "encoders" }
            if ["modality_embed", "task_embed", "router", "co_attention", "fusion_norm"].contains(key) { return "fusion" }
            return "heads"
        }
        var table = TextTable(["part", "group", "parameters"])
        var groups: [String: Int] = [:]
        for (key, count) in parts {
            table.add([key, group(key), formatCount(count)])
            groups[group(key), default: 0] += count
        }
        let total = model.parameterCount
        print(table.render())
        print("encoders \(formatCount(groups["encoders"] ?? 0)), fusion \(formatCount(groups["fusion"] ?? 0)), heads \(formatCount(groups["heads"] ?? 0)); total \(formatCount(total)) parameters (\(configuration.name), D \(configuration.dimension))")
        try printJSONLine(Report(name: configuration.name, dimension: configuration.dimension,
                                 modalities: configuration.modalities.map(\.rawValue),
                                 parameters: Dictionary(uniqueKeysWithValues: parts.map { ($0.part, $0.count) }),
                                 groups: groups, total: total))
    }
}

/// 1234567 → "1.23 M".
func formatCount(_ n: Int) -> String {
    if n >= 1_000_000 { return String(format: "%.2f M", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.1f k", Double(n) / 1e3) }
    return String(n)
}
