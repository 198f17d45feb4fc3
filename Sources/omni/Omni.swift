// The `omni` command-line tool: a thin layer that parses arguments, calls the libraries and
// prints. Every command prints a human-readable report on stdout; where results are meant for
// machines, the last line of stdout is one JSON object. Errors go to stderr as one line.
import ArgumentParser
import Foundation
import Logging

@main
struct Omni: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "omni",
        abstract: "Omni: omni-modal models on the CPU, in Swift.",
        discussion: """
            Results meant for scripts are printed as one JSON object on the last line of stdout; \
            logs and errors go to stderr. The log level comes from --log-level or OMNI_LOG_LEVEL.
            """,
        subcommands: [DoctorCommand.self, InspectCommand.self, TokenizeCommand.self, EmbedCommand.self, ClassifyCommand.self, AudioCommand.self, VideoCommand.self, SignalCommand.self, ModelCommand.self, TrainCommand.self, EvalCommand.self, InferCommand.self, ExplainCommand.self, DemoCommand.self, AblateCommand.self, DICOMCommand.self, DataCommand.self, BenchCommand.self])

    /// Runs the command; errors become one line on stderr and a non-zero exit (help stays
    /// ArgumentParser's, on stdout, exit 0).
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch let code as ExitCode {
            // a command that already printed its report and only sets the status
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            writeErrorLine(message(for: error))
            Foundation.exit(code.rawValue)
        }
    }
}
