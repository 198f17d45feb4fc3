import Foundation

/// One kind of input a manifest sample can carry.
///
/// The declaration order is also the priority order used for a sample's primary modality.
public enum Modality: String, CaseIterable, Codable, CodingKeyRepresentable, Sendable, Comparable {
    case text, image, audio, video, dicom, signal

    /// The modalities stored as file paths (everything except inline `text`).
    public static let fileModalities: [Modality] = [.image, .audio, .video, .dicom, .signal]

    public static func < (a: Modality, b: Modality) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A training target: a string, a number, or an array of those (arrays may nest).
public enum ManifestTarget: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case array([ManifestTarget])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([ManifestTarget].self) { self = .array(a) }
        else { self = .number(try c.decode(Double.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let x): try c.encode(x)
        case .array(let a): try c.encode(a)
        }
    }
}

/// One line of a JSONL manifest.
///
/// Paths are relative to the manifest's folder; resolve them with ``Manifest/url(for:)``.
///
/// ```json
/// {"id": "cat-1", "image": "images/cat1.jpg", "text": "a cat", "task": "caption", "target": "a cat"}
/// ```
public struct ManifestSample: Codable, Sendable, Equatable {
    public var id: String
    public var text: String?
    public var image: String?
    public var audio: String?
    public var video: String?
    public var dicom: String?
    public var signal: String?
    public var task: String?
    public var target: ManifestTarget?

    public init(id: String, text: String? = nil, image: String? = nil, audio: String? = nil,
                video: String? = nil, dicom: String? = nil, signal: String? = nil,
                task: String? = nil, target: ManifestTarget? = nil) {
        self.id = id; self.text = text; self.image = image; self.audio = audio
        self.video = video; self.dicom = dicom; self.signal = signal; self.task = task; self.target = target
    }

    /// The file path stored for a file modality (nil for `.text` and for absent modalities).
    public func path(for modality: Modality) -> String? {
        switch modality {
        case .text: return nil
        case .image: return image
        case .audio: return audio
        case .video: return video
        case .dicom: return dicom
        case .signal: return signal
        }
    }

    /// The modalities present, in ``Modality`` declaration order.
    public var modalities: [Modality] {
        Modality.allCases.filter { $0 == .text ? text != nil : path(for: $0) != nil }
    }

    /// The group a sampler puts this sample in: its first non-text modality in the fixed order
    /// image, audio, video, dicom, signal (JSON key order is not significant), else `.text`.
    ///
    /// A captioned image is an image sample: the text usually rides along with the other input,
    /// and the expensive, scarce modality is what a ratio should control.
    public var primaryModality: Modality {
        Modality.fileModalities.first { path(for: $0) != nil } ?? .text
    }
}

/// A problem found on one line of a manifest (or in the file as a whole, with `line == 0`).
public struct ManifestIssue: Sendable, Equatable, CustomStringConvertible {
    /// Errors make a line unusable (it is left out of ``Manifest/samples``, except for missing
    /// files, which only ``Manifest/validate(checkFiles:)`` finds); warnings do not.
    public enum Severity: String, Sendable, Equatable { case warning, error }

    public enum Kind: String, Sendable, Equatable {
        case unreadableFile, fileTooLarge, lineTooLong, emptyLine, invalidJSON, notAnObject
        case missingID, duplicateID, noModality, unknownKey, wrongType, absolutePath, escapingPath
        case emptyPath, missingFile
    }

    /// 1-based line number; 0 for problems with the file as a whole.
    public var line: Int
    public var severity: Severity
    public var kind: Kind
    public var message: String

    public init(line: Int, severity: Severity, kind: Kind, message: String) {
        self.line = line; self.severity = severity; self.kind = kind; self.message = message
    }

    public var description: String {
        line > 0 ? "line \(line): \(severity.rawValue): \(message)" : "\(severity.rawValue): \(message)"
    }
}

/// A file-level failure of ``Manifest/load(contentsOf:limits:)``.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issue: ManifestIssue
    public var description: String { issue.description }
}

/// Size limits that keep loading a hostile or mistaken file bounded in memory.
public struct ManifestLimits: Sendable, Equatable {
    /// Longest accepted line in bytes (without the newline).
    public var maxLineBytes: Int
    /// Largest accepted file in bytes.
    public var maxFileBytes: Int

    public init(maxLineBytes: Int = 1 << 20, maxFileBytes: Int = 1 << 30) {
        self.maxLineBytes = maxLineBytes; self.maxFileBytes = maxFileBytes
    }

    public static let `default` = ManifestLimits()
}

/// A JSONL dataset manifest: one JSON object per line.
///
/// Rules (every broken line is reported, none stops the load):
/// - `id` (non-empty string) is required and unique; a later duplicate is an error and dropped.
/// - At least one modality: inline `text`, or a path under `image`, `audio`, `video`, `dicom`,
///   `signal`. Paths are relative to the manifest's folder, may not be absolute (`/…` or `~…`),
///   empty, or climb out of the folder with `..` (checked lexically; symbolic links are not
///   followed). With `checkFiles`, each path must name an existing file (a folder only for
///   `dicom`, whose series are folders).
/// - `task` is a string; `target` a string, number or array of those. `null` means absent.
/// - Unknown keys are *warnings*, not errors: a manifest written for a newer version, or
///   carrying extra metadata, stays usable, and `omni data validate` still shows the typo.
/// - Blank (whitespace-only) lines are warnings and skipped; the final newline makes no line.
/// - Lines longer than ``ManifestLimits/maxLineBytes`` (1 MiB) are errors, read past without
///   being kept; files over ``ManifestLimits/maxFileBytes`` (1 GiB) are refused outright.
///
/// ```swift
/// let manifest = try Manifest.load(contentsOf: URL(fileURLWithPath: "train.jsonl"))
/// for issue in manifest.validate(checkFiles: true) { print(issue) }
/// ```
public struct Manifest: Sendable {
    /// The manifest file.
    public let url: URL
    /// The folder relative paths resolve against.
    public let directory: URL
    /// The usable samples, in file order.
    public let samples: [ManifestSample]
    /// The 1-based line each of ``samples`` came from.
    public let sampleLines: [Int]
    /// Problems found while parsing (no file-existence checks).
    public let issues: [ManifestIssue]

    static let knownKeys: Set<String> = ["id", "text", "image", "audio", "video", "dicom", "signal", "task", "target"]

    /// Reads and parses a manifest, streaming it in chunks.
    ///
    /// Throws ``ManifestError`` only when the file as a whole cannot be used (unreadable, too
    /// large); problems with single lines are collected in ``issues``.
    public static func load(contentsOf url: URL, limits: ManifestLimits = .default) throws -> Manifest {
        func fail(_ kind: ManifestIssue.Kind, _ message: String) -> ManifestError {
            ManifestError(issue: ManifestIssue(line: 0, severity: .error, kind: kind, message: message))
        }
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw fail(.unreadableFile, "cannot read \(url.path): \(error.localizedDescription)")
        }
        if size > limits.maxFileBytes {
            throw fail(.fileTooLarge, "\(url.path) is \(size) bytes, over the limit of \(limits.maxFileBytes)")
        }
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw fail(.unreadableFile, "cannot open \(url.path)")
        }
        defer { try? handle.close() }

        var parser = Parser()
        var buffer: [UInt8] = []
        var lineNumber = 1
        var overlong = false // the current line already exceeded the limit; skip to its newline
        var total = 0
        func finishLine() {
            if overlong {
                parser.issue(lineNumber, .error, .lineTooLong, "line is longer than \(limits.maxLineBytes) bytes")
            } else {
                parser.parse(line: buffer, number: lineNumber)
            }
            buffer.removeAll(keepingCapacity: true)
            overlong = false
            lineNumber += 1
        }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 16) ?? Data() } catch {
                throw fail(.unreadableFile, "error reading \(url.path): \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            total += chunk.count
            // The file may grow while being read; the limit holds for the bytes actually read.
            if total > limits.maxFileBytes {
                throw fail(.fileTooLarge, "\(url.path) is over the limit of \(limits.maxFileBytes) bytes")
            }
            chunk.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var start = 0
                while start < raw.count {
                    let newline = raw[start...].firstIndex(of: 0x0A)
                    let end = newline ?? raw.count
                    if !overlong {
                        if buffer.count + (end - start) > limits.maxLineBytes {
                            overlong = true
                            buffer.removeAll(keepingCapacity: false)
                        } else {
                            buffer.append(contentsOf: raw[start..<end])
                        }
                    }
                    if newline != nil { finishLine() }
                    start = end + 1
                }
            }
        }
        if !buffer.isEmpty || overlong { finishLine() }

        let directory = url.deletingLastPathComponent()
        return Manifest(url: url, directory: directory, samples: parser.samples,
                        sampleLines: parser.lines, issues: parser.issues)
    }

    /// The absolute location of a manifest-relative path, with `.` and `..` removed lexically
    /// (as the escape check treats them), so `a/missing/../x` names `a/x`.
    public func url(for path: String) -> URL {
        directory.appendingPathComponent(path).standardizedFileURL
    }

    /// All parse issues plus, when `checkFiles` is true, one `missingFile` error per path that
    /// does not name an existing regular file (or folder, for DICOM series), ordered by line.
    public func validate(checkFiles: Bool) -> [ManifestIssue] {
        var all = issues
        if checkFiles {
            let fm = FileManager.default
            for (sample, line) in zip(samples, sampleLines) {
                for modality in Modality.fileModalities {
                    guard let path = sample.path(for: modality) else { continue }
                    var isDirectory: ObjCBool = false
                    let exists = fm.fileExists(atPath: url(for: path).path, isDirectory: &isDirectory)
                    if !exists || (isDirectory.boolValue && modality != .dicom) {
                        all.append(ManifestIssue(line: line, severity: .error, kind: .missingFile,
                                                 message: "\(modality.rawValue) file '\(path)' not found at \(url(for: path).path)"))
                    }
                }
            }
        }
        return all.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }

    /// Number of samples per primary modality (see ``ManifestSample/primaryModality``).
    public var primaryModalityCounts: [Modality: Int] {
        samples.reduce(into: [:]) { $0[$1.primaryModality, default: 0] += 1 }
    }

    /// Everything `omni data validate MANIFEST` prints: never throws, a file-level failure becomes
    /// a line-0 issue.
    public static func validate(contentsOf url: URL, checkFiles: Bool = true,
                                limits: ManifestLimits = .default) -> ManifestReport {
        do {
            let manifest = try load(contentsOf: url, limits: limits)
            return ManifestReport(issues: manifest.validate(checkFiles: checkFiles),
                                  sampleCount: manifest.samples.count,
                                  modalityCounts: manifest.primaryModalityCounts)
        } catch let error as ManifestError {
            return ManifestReport(issues: [error.issue], sampleCount: 0, modalityCounts: [:])
        } catch {
            return ManifestReport(issues: [ManifestIssue(line: 0, severity: .error, kind: .unreadableFile,
                                                         message: "\(error)")],
                                  sampleCount: 0, modalityCounts: [:])
        }
    }
}

/// The outcome of validating a manifest, for a CLI or a pre-training check.
public struct ManifestReport: Sendable, Equatable {
    public var issues: [ManifestIssue]
    /// Samples that parsed (lines with file-existence errors still count here).
    public var sampleCount: Int
    /// Samples per primary modality.
    public var modalityCounts: [Modality: Int]

    public var errorCount: Int { issues.filter { $0.severity == .error }.count }
    public var warningCount: Int { issues.filter { $0.severity == .warning }.count }
    /// True when there are no errors (warnings allowed).
    public var isValid: Bool { errorCount == 0 }

    /// One line, e.g. `120 samples (text 70, image 40, audio 10); 2 errors, 1 warning`.
    public var summary: String {
        let groups = Modality.allCases.compactMap { m in modalityCounts[m].map { "\(m.rawValue) \($0)" } }
        let groupText = groups.isEmpty ? "" : " (" + groups.joined(separator: ", ") + ")"
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(plural(sampleCount, "sample"))\(groupText); \(plural(errorCount, "error")), \(plural(warningCount, "warning"))"
    }

    /// The full report as a CLI prints it: one line per issue, prefixed with `name:` (usually the
    /// manifest's path) so editors can jump to it, then the summary.
    public func formatted(name: String) -> String {
        let lines = issues.map { issue in
            issue.line > 0 ? "\(name):\(issue.line): \(issue.severity.rawValue): \(issue.message)"
                           : "\(name): \(issue.severity.rawValue): \(issue.message)"
        }
        return (lines + [summary]).joined(separator: "\n")
    }
}

/// Any JSON value, decoded strictly (a number is never a Bool and vice versa).
private enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let x = try? c.decode(Double.self) { self = .number(x) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

private struct Parser {
    var samples: [ManifestSample] = []
    var lines: [Int] = []
    var issues: [ManifestIssue] = []
    var seen: [String: Int] = [:]

    mutating func issue(_ line: Int, _ severity: ManifestIssue.Severity, _ kind: ManifestIssue.Kind, _ message: String) {
        issues.append(ManifestIssue(line: line, severity: severity, kind: kind, message: message))
    }

    mutating func parse(line bytes: [UInt8], number: Int) {
        var bytes = bytes[...]
        if bytes.last == 0x0D { bytes = bytes.dropLast() } // CRLF files
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            issue(number, .warning, .emptyLine, "empty line (skipped)")
            return
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            issue(number, .error, .invalidJSON, "invalid JSON: \(Self.brief(error))")
            return
        }
        guard case .object(let object) = value else {
            issue(number, .error, .notAnObject, "expected a JSON object, got \(value.typeName)")
            return
        }
        let before = issues.count
        for key in object.keys.sorted() where !Manifest.knownKeys.contains(key) {
            issue(number, .warning, .unknownKey, "unknown key '\(key)' (ignored)")
        }
        var fieldErrors = false
        func string(_ key: String) -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case let other?:
                issue(number, .error, .wrongType, "'\(key)' must be a string, got \(other.typeName)")
                fieldErrors = true
                return nil
            }
        }
        let id = string("id")
        var sample = ManifestSample(id: id ?? "")
        sample.text = string("text")
        sample.task = string("task")
        var paths: [Modality: String] = [:]
        for modality in Modality.fileModalities {
            guard let path = string(modality.rawValue) else { continue }
            if let problem = Self.pathProblem(path) {
                issue(number, .error, problem.0, "\(modality.rawValue) path '\(path)' \(problem.1)")
                fieldErrors = true
            }
            paths[modality] = path
        }
        sample.image = paths[.image]; sample.audio = paths[.audio]; sample.video = paths[.video]
        sample.dicom = paths[.dicom]; sample.signal = paths[.signal]
        if let raw = object["target"] {
            if let target = Self.target(raw) { sample.target = target }
            else if case .null = raw {}
            else {
                issue(number, .error, .wrongType, "'target' must be a string, a number or an array of those, got \(raw.typeName)")
                fieldErrors = true
            }
        }
        if id == nil || id!.isEmpty {
            // A non-string id already has its wrongType error.
            switch object["id"] {
            case nil, .null?: issue(number, .error, .missingID, "missing 'id'")
            case .string?: issue(number, .error, .missingID, "'id' is empty")
            default: break
            }
            fieldErrors = true
        } else if let first = seen[id!] {
            issue(number, .error, .duplicateID, "duplicate id '\(id!)' (first on line \(first))")
            fieldErrors = true
        }
        if sample.text == nil && paths.isEmpty {
            // Only report when no field error already explains the missing modality.
            let modalityKeyBroken = issues[before...].contains { i in
                i.kind == .wrongType && (["text"] + Modality.fileModalities.map(\.rawValue)).contains { i.message.hasPrefix("'\($0)'") }
            }
            if !modalityKeyBroken {
                issue(number, .error, .noModality, "no modality: needs 'text' or one of image, audio, video, dicom, signal")
            }
            fieldErrors = true
        }
        if fieldErrors { return }
        seen[sample.id] = number
        samples.append(sample)
        lines.append(number)
    }

    static func target(_ value: JSONValue) -> ManifestTarget? {
        switch value {
        case .string(let s): return .string(s)
        case .number(let x): return .number(x)
        case .array(let a):
            var items: [ManifestTarget] = []
            for v in a { guard let t = target(v) else { return nil }; items.append(t) }
            return .array(items)
        default: return nil
        }
    }

    /// Why a manifest-relative path is unacceptable, or nil when it is fine.
    static func pathProblem(_ path: String) -> (ManifestIssue.Kind, String)? {
        if path.isEmpty { return (.emptyPath, "is empty") }
        if path.hasPrefix("/") || path.hasPrefix("~") { return (.absolutePath, "is absolute; paths must be relative to the manifest's folder") }
        var depth = 0
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                depth -= 1
                if depth < 0 { return (.escapingPath, "escapes the manifest's folder") }
            default: depth += 1
            }
        }
        if depth == 0 { return (.emptyPath, "names the manifest's folder itself, not a file") }
        return nil
    }

    static func brief(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }
}
