// `omni inspect FILE`: what a file holds — tensors (safetensors, PyTorch checkpoints, .npy/.npz),
// an image or a JSONL dataset manifest — as a table and a final JSON line. A bad file is one line
// on stderr, exit 1.
import ArgumentParser
import Foundation
import OmniData
import OmniNN
import OmniTensor

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarises a tensor file (safetensors, .pth/.pt, .npy, .npz), an image (PNG, JPEG), an audio or video file, a DICOM file or a dataset manifest (.jsonl).",
        discussion: """
            Tensor files list every tensor with its dtype and shape; images give their size, channels \
            and bit depth; audio its format, codec, sample rate, channels and duration; video (anything \
            FFmpeg demuxes with a video stream) the fields of `omni video info`; DICOM files their \
            metadata (patient fields masked); manifests (a .jsonl name, or a file starting with '{') give \
            sample, modality and task counts and how many referenced files are missing (a manifest with \
            bad lines fails: `omni data validate` lists them). The last line of stdout is a JSON object. \
            A truncated, corrupt or unsupported file exits non-zero with one line on stderr naming the \
            file and the problem.
            """)

    @Argument(help: "The file to inspect.") var file: String
    @OptionGroup var global: GlobalOptions

    struct TensorEntry: Encodable { let name: String; let dtype: String; let shape: [Int] }
    struct TensorReport: Encodable { let file: String; let format: String; let tensors: [TensorEntry]; let parameters: Int; let bytes: Int }
    struct ImageReport: Encodable { let file: String; let format: String; let width: Int; let height: Int; let channels: Int; let bit_depth: Int }
    struct ManifestReport: Encodable {
        let file: String; let format: String; let samples: Int; let modalities: [String: Int]; let primary: [String: Int]
        let tasks: [String: Int]; let untasked: Int; let missing_files: Int; let warnings: Int
    }

    struct AudioReport: Encodable { let file: String; let kind = "audio"; let info: AudioFileInfo
        func encode(to encoder: Encoder) throws {
            enum Key: String, CodingKey { case file, kind }
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(file, forKey: .file)
            try c.encode(kind, forKey: .kind)
            try info.encode(to: encoder)
        }
    }

    /// Audio (header only) or video (container and frame index) through libsndfile / FFmpeg.
    func inspectMedia() throws {
        if MediaSniffer.audioDecoder(forFile: file) == .ffmpeg {
            var video: VideoReader?
            do { video = try VideoReader(contentsOf: file) } catch {
                // audio only: summarised below; any other failure is the file's
                guard error.message.hasPrefix("no video stream") else { throw CLIError(error.description) }
            }
            if let video {
                let report = VideoReport(file: file, info: video.info)
                print(report.summary)
                try printJSONLine(report)
                return
            }
        }
        let info: AudioFileInfo
        do { info = try AudioFileInfo(contentsOf: file) } catch { throw CLIError(error.description) }
        let duration = info.duration.map { "\(fixed($0, 3)) s" } ?? "unknown duration"
        print("\(file): \(info.format) audio (\(info.codec), \(info.decoder)), \(info.sampleRate) Hz, \(info.channels) channel(s), \(duration)")
        try printJSONLine(AudioReport(file: file, info: info))
    }

    func run() throws {
        _ = try global.makeLogger("omni.inspect")
        guard FileManager.default.fileExists(atPath: file) else { throw CLIError("\(file): no such file") }
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: file)).read(upToCount: 132)) ?? Data()
        let bytes = [UInt8](head)
        // DICOM (PS3.10): a 128-byte preamble, then "DICM"
        if bytes.count == 132, bytes[128...].elementsEqual(Array("DICM".utf8)) {
            try inspectDICOM(file)
            return
        }
        let isPNG = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
        let isJPEG = bytes.starts(with: [0xFF, 0xD8, 0xFF])
        let ext = URL(fileURLWithPath: file).pathExtension.lowercased()
        if ext == "jsonl" || ext == "ndjson" || bytes.first == UInt8(ascii: "{") {
            try inspectManifest()
            return
        }
        if isPNG || isJPEG {
            let image: Image
            do { image = try Image(contentsOfFile: file) } catch { throw CLIError(error.description) }
            let depth: Int = if case .uint16 = image.pixels { 16 } else { 8 }
            print("\(file): \(isPNG ? "PNG" : "JPEG") image, \(image.width)×\(image.height), \(image.channels) channel(s), \(depth)-bit")
            try printJSONLine(ImageReport(file: file, format: isPNG ? "png" : "jpeg", width: image.width, height: image.height,
                                          channels: image.channels, bit_depth: depth))
            return
        }
        if MediaSniffer.looksLikeMedia(header: [UInt8]((try? FileHandle(forReadingFrom: URL(fileURLWithPath: file)).read(upToCount: 16)) ?? Data()),
                                       path: file) {
            try inspectMedia()
            return
        }
        let format: TensorFileFormat
        let summaries: [TensorSummary]
        do {
            format = try TensorFile.format(of: file)
            summaries = try TensorFile.summary(file)
        } catch let error as WeightsError {
            throw CLIError(error.description)
        }
        var table = TextTable(["tensor", "dtype", "shape"])
        for s in summaries { table.add([s.name, s.dtype.rawValue, "[" + s.shape.map(String.init).joined(separator: ", ") + "]"]) }
        print(table.render())
        let count = summaries.reduce(0) { $0 + $1.count }, byteCount = summaries.reduce(0) { $0 + $1.byteCount }
        print("\(summaries.count) tensors, \(count) values, \(byteCount) bytes (\(format))")
        try printJSONLine(TensorReport(file: file, format: "\(format)", tensors: summaries.map {
            TensorEntry(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape)
        }, parameters: count, bytes: byteCount))
    }

    func inspectManifest() throws {
        let manifest: Manifest
        do { manifest = try Manifest.load(contentsOf: URL(fileURLWithPath: file)) } catch let error as ManifestError {
            throw CLIError("\(file): \(error.issue.message)")
        }
        if let first = manifest.issues.first(where: { $0.severity == .error }) {
            let summary = manifest.summary(checkFiles: false)
            throw CLIError("\(file): \(summary.badLines) bad line\(summary.badLines == 1 ? "" : "s"), first \(first) (omni data validate lists all)")
        }
        guard !manifest.samples.isEmpty else { throw CLIError("\(file): no samples") }
        let s = manifest.summary(checkFiles: true)
        func names(_ counts: [Modality: Int]) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
        }
        print("\(file): JSONL manifest, \(s.samples) sample\(s.samples == 1 ? "" : "s")")
        var table = TextTable(["modality", "samples", "primary"])
        for m in Modality.allCases where s.modalityCounts[m] != nil {
            table.add([m.rawValue, "\(s.modalityCounts[m]!)", "\(s.primaryCounts[m] ?? 0)"])
        }
        print(table.render())
        let tasks = s.taskCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }
        print("tasks: " + (tasks + (s.untasked > 0 ? ["(none) \(s.untasked)"] : [])).joined(separator: ", "))
        print("missing files: \(s.missingFiles)" + (s.warnings > 0 ? "; \(s.warnings) warning\(s.warnings == 1 ? "" : "s")" : ""))
        try printJSONLine(ManifestReport(file: file, format: "manifest", samples: s.samples, modalities: names(s.modalityCounts),
                                         primary: names(s.primaryCounts), tasks: s.taskCounts, untasked: s.untasked,
                                         missing_files: s.missingFiles, warnings: s.warnings))
    }
}
