// `omni signal info FILE` and `omni signal stft FILE --out OUT.npy`: multichannel sensor signals
// (CSV, .npy, WAV/FLAC/OGG; .ts datasets for info).
import ArgumentParser
import Foundation
import OmniData
import OmniNN
import OmniTensor

struct SignalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Multichannel sensor signals.",
        subcommands: [SignalInfoCommand.self, SignalSTFTCommand.self])
}

/// How a signal file is read: shared by the signal subcommands.
struct SignalInputOptions: ParsableArguments {
    @Option(help: "Samples per second (needed for .npy and for CSV without a time column).") var sampleRate: Double?
    @Option(help: "Layout of a 2-D .npy array: channels-first ([C, S]) or samples-first ([S, C]).") var layout = "channels-first"

    func read(_ file: String) throws -> Signal {
        guard FileManager.default.fileExists(atPath: file) else { throw CLIError("\(file): no such file") }
        let npyLayout: SignalLayout
        switch layout {
        case "channels-first": npyLayout = .channelsFirst
        case "samples-first": npyLayout = .samplesFirst
        default: throw CLIError("--layout: '\(layout)' is not channels-first or samples-first")
        }
        if let sampleRate, !(sampleRate > 0 && sampleRate.isFinite) {
            throw CLIError("--sample-rate: \(sampleRate) must be positive")
        }
        do { return try Signal(contentsOf: file, sampleRate: sampleRate, npyLayout: npyLayout) } catch {
            throw CLIError(error.description)
        }
    }
}

struct SignalInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Summarises a signal file: channels, samples, rate and per-channel statistics.",
        discussion: """
            CSV/TSV (header and time column detected), .npy (with --sample-rate), WAV/FLAC/OGG (every \
            channel), or a .ts dataset of the UEA/UCR archives (cases, channels, lengths, classes). The \
            last line of stdout is a JSON object.
            """)

    @Argument(help: "The signal file.") var file: String
    @OptionGroup var input: SignalInputOptions
    @OptionGroup var global: GlobalOptions

    struct Channel: Encodable { let name: String; let mean: Double; let std: Double; let min: Double; let max: Double }
    struct Report: Encodable {
        let file: String; let channels: Int; let samples: Int; let sample_rate: Double; let duration: Double
        let channel_stats: [Channel]
    }
    struct DatasetReport: Encodable {
        let file: String; let format: String; let problem: String?; let cases: Int; let channels: Int
        let min_length: Int; let max_length: Int; let classes: [String]; let class_counts: [Int]
    }

    func run() throws {
        _ = try global.makeLogger("omni.signal.info")
        if (file as NSString).pathExtension.lowercased() == "ts" {
            let ts: TSFile
            do { ts = try TSFile(contentsOf: file) } catch { throw CLIError(error.description) }
            let lengths = ts.cases.map(\.length)
            var counts = [Int](repeating: 0, count: ts.classLabels.count)
            for c in ts.cases { if let l = c.label, let i = ts.classLabels.firstIndex(of: l) { counts[i] += 1 } }
            print("\(file): .ts dataset \(ts.problemName ?? "?"), \(ts.count) cases × \(ts.channelCount) channels, "
                  + "length \(lengths.min()!)…\(lengths.max()!), classes \(ts.classLabels.joined(separator: ", "))")
            try printJSONLine(DatasetReport(file: file, format: "ts", problem: ts.problemName, cases: ts.count, channels: ts.channelCount,
                                            min_length: lengths.min()!, max_length: lengths.max()!, classes: ts.classLabels,
                                            class_counts: counts))
            return
        }
        let signal = try input.read(file)
        let stats = signal.channelStatistics()
        var table = TextTable(["channel", "mean", "std", "min", "max"])
        let channels = (0..<signal.channelCount).map { c in
            Channel(name: signal.channelNames[c], mean: rounded(stats.mean[c], 6), std: rounded(stats.std[c], 6),
                    min: rounded(stats.minimum[c], 6), max: rounded(stats.maximum[c], 6))
        }
        for c in channels { table.add([c.name, fixed(c.mean, 4), fixed(c.std, 4), fixed(c.min, 4), fixed(c.max, 4)]) }
        print(table.render())
        print("\(file): \(signal.channelCount) channels × \(signal.sampleCount) samples at \(signal.sampleRate) Hz (\(fixed(signal.duration, 3)) s)")
        try printJSONLine(Report(file: file, channels: signal.channelCount, samples: signal.sampleCount, sample_rate: signal.sampleRate,
                                 duration: signal.duration, channel_stats: channels))
    }
}

struct SignalSTFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stft",
        abstract: "Writes the STFT magnitude map [C, n_fft/2+1, frames] of a signal as float32 .npy.",
        discussion: """
            Each channel: periodic Hann window, centred frames (reflect padding by n_fft/2), \
            frames = 1 + samples / hop — torch.stft(x, n_fft, hop, window=hann_window(n_fft), \
            center=True).abs(). --scale: magnitude, power, log (ln max(|X|, 1e-6)) or db \
            (20·log10 max(|X|, 1e-10)). The last line of stdout is a JSON object with the shape.
            """)

    @Argument(help: "The signal file (CSV, .npy, WAV/FLAC/OGG).") var file: String
    @Option(help: "Output .npy file.") var out: String
    @Option(help: "FFT size (window length).") var nFft = 64
    @Option(help: "Hop between frames (default n_fft / 4).") var hop: Int?
    @Option(help: "magnitude, power, log or db.") var scale = "magnitude"
    @OptionGroup var input: SignalInputOptions
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        let file: String; let out: String; let shape: [Int]; let sample_rate: Double; let channel_names: [String]
        let n_fft: Int; let hop: Int; let scale: String
    }

    func validate() throws {
        guard nFft > 0 && nFft <= 1 << 16 else { throw ValidationError("--n-fft must be in 1...65536, got \(nFft)") }
        if let hop { guard hop > 0 else { throw ValidationError("--hop must be positive, got \(hop)") } }
        guard ["magnitude", "power", "log", "db"].contains(scale) else {
            throw ValidationError("--scale must be magnitude, power, log or db, got \(scale)")
        }
    }

    func run() throws {
        _ = try global.makeLogger("omni.signal.stft")
        let signal = try input.read(file)
        let hop = self.hop ?? Swift.max(nFft / 4, 1)
        guard signal.sampleCount >= Signal.minimumSTFTLength(nFft: nFft) else {
            throw CLIError("\(file): \(signal.sampleCount) samples per channel are too few for --n-fft \(nFft) (needs more than \(nFft / 2))")
        }
        let frames = signal.stftFrameCount(hop: hop), bins = nFft / 2 + 1
        guard signal.channelCount * frames * Swift.max(bins, nFft) <= Signal.maxValues else {
            throw CLIError("\(file): \(signal.channelCount) × \(bins) × \(frames) output is too large; raise --hop")
        }
        let mapScale: SpectrogramScale = switch scale {
        case "power": .power
        case "log": .log()
        case "db": .decibels()
        default: .magnitude
        }
        let map = signal.stftMagnitude(nFft: nFft, hop: hop, scale: mapScale)
        do { try NPY.write(map, to: out) } catch { throw CLIError("--out \(out): \(error)") }
        print("\(file): \(signal.channelCount) channels × \(signal.sampleCount) samples at \(signal.sampleRate) Hz → \(scale) STFT \(map.shape) in \(out)")
        try printJSONLine(Result(file: file, out: out, shape: map.shape, sample_rate: signal.sampleRate, channel_names: signal.channelNames,
                                 n_fft: nFft, hop: hop, scale: scale))
    }
}
