// JSONL manifests: valid files load, every bad line is reported with its line number and reason,
// paths resolve against the manifest's folder, size limits hold.
import Foundation
import Testing
import OmniData

/// A fresh temporary folder holding `manifest.jsonl` with `text`, plus any `files` (created empty).
func makeManifestFolder(_ text: String, files: [String] = []) throws -> URL {
    let dir = testScratchRoot.appendingPathComponent("manifest-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for file in files {
        let url = dir.appendingPathComponent(file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: url)
    }
    let manifest = dir.appendingPathComponent("manifest.jsonl")
    try Data(text.utf8).write(to: manifest)
    return manifest
}

/// Issues as (line, kind) pairs, for exact comparison.
func lineKinds(_ issues: [ManifestIssue]) -> [String] {
    issues.map { "\($0.line):\($0.kind.rawValue)" }
}

@Suite("Manifest")
struct ManifestTests {
    @Test func validManifestLoads() throws {
        let url = try makeManifestFolder("""
        {"id": "a", "text": "hello world", "task": "lm"}
        {"id": "b", "image": "img/cat.jpg", "text": "a cat", "task": "caption", "target": "a cat"}
        {"id": "c", "audio": "sound/x.wav", "task": "asr", "target": ["x", 1, 2.5]}
        {"id": "d", "video": "v.mp4", "dicom": "scans/ct", "signal": "ecg.npy", "target": 3}
        """, files: ["img/cat.jpg", "sound/x.wav", "v.mp4", "scans/ct/1.dcm", "ecg.npy"])
        let manifest = try Manifest.load(contentsOf: url)
        #expect(manifest.issues.isEmpty, "\(manifest.issues)")
        #expect(manifest.samples.map(\.id) == ["a", "b", "c", "d"])
        #expect(manifest.sampleLines == [1, 2, 3, 4])
        #expect(manifest.samples[0] == ManifestSample(id: "a", text: "hello world", task: "lm"))
        #expect(manifest.samples[1].image == "img/cat.jpg")
        #expect(manifest.samples[1].target == .string("a cat"))
        #expect(manifest.samples[2].target == .array([.string("x"), .number(1), .number(2.5)]))
        #expect(manifest.samples[3].target == .number(3))
        #expect(manifest.samples.map(\.primaryModality) == [.text, .image, .audio, .video])
        #expect(manifest.samples[3].modalities == [.video, .dicom, .signal])
        #expect(manifest.validate(checkFiles: true).isEmpty)
        let report = Manifest.validate(contentsOf: url)
        #expect(report.isValid)
        #expect(report.summary == "4 samples (text 1, image 1, audio 1, video 1); 0 errors, 0 warnings")
    }

    @Test func pathsResolveRelativeToTheManifest() throws {
        let url = try makeManifestFolder(#"{"id": "a", "image": "sub/./deep/../x.png"}"#, files: ["sub/x.png"])
        let manifest = try Manifest.load(contentsOf: url)
        let resolved = manifest.url(for: manifest.samples[0].image!)
        #expect(resolved.standardizedFileURL.path == url.deletingLastPathComponent().appendingPathComponent("sub/x.png").standardizedFileURL.path)
        #expect(FileManager.default.fileExists(atPath: resolved.path))
        #expect(manifest.validate(checkFiles: true).isEmpty)
        // The working directory plays no part (it is never the temporary folder here), and the
        // same file named from the wrong folder is reported missing.
        #expect(FileManager.default.currentDirectoryPath != url.deletingLastPathComponent().path)
        let other = try makeManifestFolder(#"{"id": "a", "image": "sub/x.png"}"#)
        #expect(lineKinds(try Manifest.load(contentsOf: other).validate(checkFiles: true)) == ["1:missingFile"])
    }

    @Test func everyBadLineIsReportedWithItsNumberAndReason() throws {
        let lines = [
            #"{"id": "ok1", "text": "fine"}"#,                       // 1
            #"{"id": "x", "text": "unterminated"#,                   // 2 invalid JSON
            #"{"text": "no id"}"#,                                   // 3 missing id
            #"{"id": "ok1", "text": "again"}"#,                      // 4 duplicate id
            #"{"id": "nomod", "task": "cls", "target": 1}"#,         // 5 no modality
            #"{"id": "extra", "text": "t", "colour": "red"}"#,       // 6 unknown key (warning)
            #"{"id": "abs", "image": "/etc/passwd"}"#,               // 7 absolute path
            #"{"id": "esc", "audio": "a/../../secret.wav"}"#,        // 8 escaping path
            "",                                                      // 9 empty line (warning)
            #"{"id": "miss", "image": "nothere.png"}"#,              // 10 missing file (checkFiles)
            #"[1, 2]"#,                                              // 11 not an object
            #"{"id": 7, "text": "t"}"#,                              // 12 wrong type for id
            #"{"id": "emptyid", "text": "t", "target": true}"#,      // 13 bad target type
            #"{"id": "", "text": "t"}"#,                             // 14 empty id
            #"{"id": "ok2", "image": "there.png", "text": "fine"}"#, // 15
        ]
        let url = try makeManifestFolder(lines.joined(separator: "\n") + "\n", files: ["there.png"])
        let manifest = try Manifest.load(contentsOf: url)
        #expect(manifest.samples.map(\.id) == ["ok1", "extra", "miss", "ok2"])
        #expect(manifest.sampleLines == [1, 6, 10, 15])
        let expected = ["2:invalidJSON", "3:missingID", "4:duplicateID", "5:noModality", "6:unknownKey",
                        "7:absolutePath", "8:escapingPath", "9:emptyLine", "11:notAnObject", "12:wrongType",
                        "13:wrongType", "14:missingID"]
        #expect(lineKinds(manifest.validate(checkFiles: false)) == expected)
        var withFiles = expected
        withFiles.insert("10:missingFile", at: 8)
        let issues = manifest.validate(checkFiles: true)
        #expect(lineKinds(issues) == withFiles)

        func message(_ line: Int) -> String { issues.first { $0.line == line }?.message ?? "<none>" }
        #expect(message(2).hasPrefix("invalid JSON"))
        #expect(message(3) == "missing 'id'")
        #expect(message(4) == "duplicate id 'ok1' (first on line 1)")
        #expect(message(5).hasPrefix("no modality"))
        #expect(message(6) == "unknown key 'colour' (ignored)")
        #expect(message(7).contains("'/etc/passwd' is absolute"))
        #expect(message(8).contains("escapes the manifest's folder"))
        #expect(message(10).contains("image file 'nothere.png' not found"))
        #expect(message(11) == "expected a JSON object, got an array")
        #expect(message(12) == "'id' must be a string, got a number")
        #expect(message(13).contains("'target' must be"))
        #expect(message(14) == "'id' is empty")
        #expect(issues.filter { $0.severity == .warning }.map(\.line) == [6, 9])
        #expect(issues.first { $0.line == 7 }!.description.hasPrefix("line 7: error: "))

        let report = Manifest.validate(contentsOf: url)
        #expect(!report.isValid)
        #expect(report.errorCount == 11 && report.warningCount == 2)
        #expect(report.summary == "4 samples (text 2, image 2); 11 errors, 2 warnings")
        let printed = report.formatted(name: "m.jsonl").split(separator: "\n").map(String.init)
        #expect(printed.count == 14)
        #expect(printed[2] == "m.jsonl:4: error: duplicate id 'ok1' (first on line 1)")
        #expect(printed[4] == "m.jsonl:6: warning: unknown key 'colour' (ignored)")
        #expect(printed.last == report.summary)
    }

    @Test func lineNumbersCountCRLFAndNoTrailingNewline() throws {
        let url = try makeManifestFolder("{\"id\": \"a\", \"text\": \"x\"}\r\n\r\n{\"id\": \"a\", \"text\": \"y\"}")
        let manifest = try Manifest.load(contentsOf: url)
        #expect(lineKinds(manifest.issues) == ["2:emptyLine", "3:duplicateID"])
        #expect(manifest.samples.count == 1)
    }

    @Test func overlongLinesAreRejectedAndReadingContinues() throws {
        let long = #"{"id": "long", "text": ""# + String(repeating: "x", count: 200_000) + #""}"#
        let text = [#"{"id": "a", "text": "x"}"#, long, #"{"id": "b", "text": "y"}"#, long].joined(separator: "\n")
        let url = try makeManifestFolder(text)
        let manifest = try Manifest.load(contentsOf: url, limits: ManifestLimits(maxLineBytes: 1000))
        #expect(lineKinds(manifest.issues) == ["2:lineTooLong", "4:lineTooLong"])
        #expect(manifest.samples.map(\.id) == ["a", "b"])
        #expect(manifest.issues[0].message == "line is longer than 1000 bytes")
        // Within the default 1 MiB limit the same line is fine.
        #expect(try Manifest.load(contentsOf: url).issues.map(\.kind) == [.duplicateID])
    }

    @Test func lineLimitBoundaryAndDefaultOneMiB() throws {
        let line = #"{"id": "a", "text": "x"}"# // 24 bytes
        #expect(line.utf8.count == 24)
        let url = try makeManifestFolder(line + "\n" + line.replacingOccurrences(of: "\"a\"", with: "\"ab\"") + "\n")
        let atLimit = try Manifest.load(contentsOf: url, limits: ManifestLimits(maxLineBytes: 24))
        #expect(lineKinds(atLimit.issues) == ["2:lineTooLong"])
        #expect(atLimit.samples.map(\.id) == ["a"])
        // Default limit is 1 MiB: a line of 1 MiB + 1 bytes is refused, its neighbours are read.
        let big = #"{"id": "big", "text": ""# + String(repeating: "y", count: (1 << 20) - 24) + #""}"#
        #expect(big.utf8.count == (1 << 20) + 1)
        let bigURL = try makeManifestFolder([line, big, #"{"id": "c", "text": "z"}"#].joined(separator: "\n"))
        let manifest = try Manifest.load(contentsOf: bigURL)
        #expect(lineKinds(manifest.issues) == ["2:lineTooLong"])
        #expect(manifest.samples.map(\.id) == ["a", "c"])
        #expect(ManifestLimits.default == ManifestLimits(maxLineBytes: 1 << 20, maxFileBytes: 1 << 30))
    }

    @Test func oversizedAndMissingFilesAreFileLevelErrors() throws {
        let url = try makeManifestFolder(String(repeating: #"{"id": "a", "text": "x"}"# + "\n", count: 10))
        #expect(throws: ManifestError.self) { try Manifest.load(contentsOf: url, limits: ManifestLimits(maxFileBytes: 100)) }
        let report = Manifest.validate(contentsOf: url, limits: ManifestLimits(maxFileBytes: 100))
        #expect(lineKinds(report.issues) == ["0:fileTooLarge"])
        #expect(!report.isValid)
        let missing = Manifest.validate(contentsOf: url.deletingLastPathComponent().appendingPathComponent("nope.jsonl"))
        #expect(lineKinds(missing.issues) == ["0:unreadableFile"])
        #expect(missing.summary == "0 samples; 1 error, 0 warnings")
        #expect(missing.formatted(name: "nope.jsonl").hasPrefix("nope.jsonl: error: cannot read"))
    }

    @Test func binaryGarbageIsReportedNotFatal() throws {
        var bytes = [UInt8](repeating: 0xFF, count: 50) + [0x0A] + Array(#"{"id": "a", "text": "x"}"#.utf8)
        bytes += [0x0A, 0x00, 0x7B, 0x0A]
        // Deep nesting must be refused by the parser, not overflow the stack.
        bytes += Array(#"{"id": "deep", "text": "t", "target": "#.utf8) + [UInt8](repeating: 0x5B, count: 100_000)
            + [UInt8](repeating: 0x5D, count: 100_000) + Array("}\n".utf8)
        let url = try makeManifestFolder("")
        try Data(bytes).write(to: url)
        let manifest = try Manifest.load(contentsOf: url)
        #expect(lineKinds(manifest.issues) == ["1:invalidJSON", "3:invalidJSON", "4:invalidJSON"])
        #expect(manifest.samples.map(\.id) == ["a"])
    }

    @Test func samplesRoundTripThroughCodable() throws {
        let sample = ManifestSample(id: "z", text: "t", audio: "a.wav", task: "asr",
                                    target: .array([.number(1), .array([.string("q")])]))
        let data = try JSONEncoder().encode(sample)
        #expect(try JSONDecoder().decode(ManifestSample.self, from: data) == sample)
        // A line written by the encoder loads back as a valid sample.
        let url = try makeManifestFolder(String(decoding: data, as: UTF8.self), files: ["a.wav"])
        let manifest = try Manifest.load(contentsOf: url)
        #expect(manifest.samples == [sample])
        #expect(manifest.validate(checkFiles: true).isEmpty)
    }
}
