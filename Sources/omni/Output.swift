// Output shared by the commands: logging set-up, the one-line error format, tables and the
// JSON result line.
import ArgumentParser
import Foundation
import Logging

/// A failure a command reports to the user: one line on stderr, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Writes `message` to stderr as a single line prefixed with `omni: error:`.
func writeErrorLine(_ message: String) {
    let oneLine = message.split(whereSeparator: \.isNewline)
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
        .joined(separator: " ")
    let text = oneLine.hasPrefix("Error: ") ? String(oneLine.dropFirst(7)) : oneLine
    FileHandle.standardError.write(Data("omni: error: \(text)\n".utf8))
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Log level: trace, debug, info, notice, warning, error or critical (default: OMNI_LOG_LEVEL, else info).",
        valueName: "level"))
    var logLevel: Logger.Level?

    /// Sets up swift-log (stderr) once and returns a logger for `label`.
    func makeLogger(_ label: String) throws -> Logger {
        var level = Logger.Level.info
        if let logLevel {
            level = logLevel
        } else if let env = ProcessInfo.processInfo.environment["OMNI_LOG_LEVEL"], !env.isEmpty {
            guard let parsed = Logger.Level(rawValue: env.lowercased()) else {
                throw CLIError("OMNI_LOG_LEVEL: '\(env)' is not a log level (trace, debug, info, notice, warning, error, critical)")
            }
            level = parsed
        }
        LogBootstrap.once()
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

private enum LogBootstrap {
    static let done: Bool = {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        return true
    }()
    static func once() { _ = done }
}

/// Prints `value` as one compact JSON line (the machine-readable result: always the last line of stdout).
func printJSONLine<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    print(String(decoding: data, as: UTF8.self))
}

/// A plain text table: first column left-aligned, the others right-aligned.
struct TextTable {
    let header: [String]
    var rows: [[String]] = []

    init(_ header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// Formats with a fixed number of decimals.
func fixed(_ x: Double, _ decimals: Int = 2) -> String { String(format: "%.\(decimals)f", x) }

/// Rounds for JSON output (keeps the line short and stable).
func rounded(_ x: Double, _ decimals: Int = 4) -> Double {
    guard x.isFinite else { return 0 }
    let p = Foundation.pow(10.0, Double(decimals))
    return (x * p).rounded() / p
}
