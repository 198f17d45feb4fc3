// End-to-end checks of the `omni` binary's conventions: results as one JSON object (or array) on
// the last line of stdout, errors as one line on stderr naming the file or argument, non-zero exit.
import Foundation
import Testing

struct CLIRun {
    let status: Int32
    let stdout: String
    let stderr: String
    var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
}

/// The `omni` executable built next to this test bundle.
func omni(_ arguments: [String], stdin: String? = nil) throws -> CLIRun {
    let binary = Bundle.main.bundleURL.appendingPathComponent("omni")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIRun(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

func assetsDirectory() -> String {
    if let env = ProcessInfo.processInfo.environment["OMNI_ASSETS"], !env.isEmpty { return env }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/omni").path
}

func jsonObject(_ line: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(line.utf8)) }

@Suite(.serialized) struct CLITests {
    @Test func doctorReportsAndEndsWithJSON() throws {
        let r = try omni(["doctor"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line is not a JSON object: \(r.lastLine)")
        #expect(json["onednn_version"] as? String == "2.6.3")
        #expect((json["threads"] as? Int ?? 0) >= 1)
        #expect(json["matmul_check"] as? String != nil)
    }

    @Test func badFileIsOneLineOnStderr() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, bytes) in [("bad.safetensors", [UInt8](repeating: 0xFF, count: 16)), ("bad.npy", Array("\u{93}NUMPY".utf8)),
                              ("bad.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]), ("empty.pth", [])] {
            let path = dir.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let r = try omni(["inspect", path])
            #expect(r.status != 0, "\(name) should fail")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(path), "\(name): stderr was \(r.stderr)")
        }
        let missing = try omni(["inspect", dir.appendingPathComponent("nope.safetensors").path])
        #expect(missing.status != 0 && missing.stderr.contains("no such file"))
    }

    @Test func badArgumentsNameTheArgument() throws {
        let r = try omni(["bench", "matmul", "--m", "0", "--n", "4", "--k", "4"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--m"), "stderr was \(r.stderr)")
        let d = try omni(["bench", "matmul", "--m", "4", "--n", "4", "--k", "4", "--dtype", "f64"])
        #expect(d.status != 0 && d.stderr.contains("dtype"), "stderr was \(d.stderr)")
    }

    @Test func tokenizeMatchesTiktoken() throws {
        let file = assetsDirectory() + "/tiktoken/cl100k_base.tiktoken"
        #expect(FileManager.default.fileExists(atPath: file), "missing \(file): run scripts/fetch-assets (make test runs it)")
        // ids from tiktoken 0.14's cl100k_base
        let r = try omni(["tokenize", "--tokenizer", file, "hello world, Omni!"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.lastLine == "[15339,1917,11,86325,0]")
    }

    @Test func classifyFromPreprocessedInput() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("OmniModelsTests/Fixtures/mobilenet_v2")
        let r = try omni(["classify", "--input-npy", fixtures.appendingPathComponent("chelsea_input.npy").path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let predictions = try #require(jsonObject(r.lastLine) as? [[String: Any]])
        let expected = try #require(jsonObject(try String(contentsOf: fixtures.appendingPathComponent("chelsea_top5.json"), encoding: .utf8)) as? [String: Any])
        #expect(predictions.map { $0["index"] as? Int } == (expected["top5"] as? [Int] ?? []))
    }

    @Test func embedPrintsUnitVectors() throws {
        let r = try omni(["embed", "--model", assetsDirectory() + "/minilm", "A cat sits on the mat.", "Omni reads many modalities."])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let rows = r.stdout.split(separator: "\n").compactMap { jsonObject(String($0)) as? [Double] }
        #expect(rows.count == 2)
        for v in rows {
            #expect(v.count == 384)
            #expect(Swift.abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        }
    }

    @Test func dataValidateReportsEveryBadLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        FileManager.default.createFile(atPath: dir.appendingPathComponent("a.png").path, contents: Data([0]))
        let manifest = dir.appendingPathComponent("m.jsonl").path
        let lines = [#"{"id":"1","image":"a.png","task":"caption","target":"a cat"}"#, #"{"id":"1","text":"hi"}"#,
                     "{bad json", #"{"id":"3","image":"../x.png"}"#]
        FileManager.default.createFile(atPath: manifest, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
        let r = try omni(["data", "validate", manifest])
        #expect(r.status == 1)
        #expect(r.stderr.isEmpty, "stderr was \(r.stderr)")
        for line in [2, 3, 4] { #expect(r.stdout.contains("\(manifest):\(line): error:"), "line \(line) not reported: \(r.stdout)") }
        #expect(!r.stdout.contains("\(manifest):1:"))
    }

    @Test func inspectSummarisesAManifest() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        FileManager.default.createFile(atPath: dir.appendingPathComponent("a.png").path, contents: Data([0]))
        let manifest = dir.appendingPathComponent("m.jsonl").path
        let lines = [#"{"id":"1","image":"a.png","text":"a cat","task":"caption"}"#, #"{"id":"2","text":"hi","task":"lm"}"#,
                     #"{"id":"3","audio":"gone.wav","task":"caption"}"#, #"{"id":"4","text":"untasked"}"#]
        FileManager.default.createFile(atPath: manifest, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
        let r = try omni(["inspect", manifest])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line: \(r.lastLine)")
        #expect(json["format"] as? String == "manifest" && json["samples"] as? Int == 4)
        #expect(json["modalities"] as? [String: Int] == ["text": 3, "image": 1, "audio": 1])
        #expect(json["tasks"] as? [String: Int] == ["caption": 2, "lm": 1] && json["untasked"] as? Int == 1)
        #expect(json["missing_files"] as? Int == 1)
        // Bad lines, or a file-level failure: one line on stderr naming the file, non-zero exit.
        let bad = dir.appendingPathComponent("bad.jsonl").path
        FileManager.default.createFile(atPath: bad, contents: Data("{\"id\":\"1\",\"text\":\"ok\"}\n{oops\n".utf8))
        let b = try omni(["inspect", bad])
        #expect(b.status != 0 && b.stderr.split(separator: "\n").count == 1 && b.stderr.contains(bad) && b.stderr.contains("line 2"),
                "stderr was \(b.stderr)")
        let empty = dir.appendingPathComponent("empty.jsonl").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        let e = try omni(["inspect", empty])
        #expect(e.status != 0 && e.stderr.contains("no samples"), "stderr was \(e.stderr)")
    }

    @Test func audioMelWritesWhisperShapedNpy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // 1 s of a 440 Hz tone, 16-bit PCM WAV at 16 kHz
        var pcm = Data()
        for i in 0..<16000 { pcm.append(contentsOf: withUnsafeBytes(of: Int16(10000 * sin(2 * Double.pi * 440 * Double(i) / 16000)).littleEndian, Array.init)) }
        var wav = Data("RIFF".utf8)
        func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        func u16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        wav.append(contentsOf: u32(UInt32(36 + pcm.count))); wav.append(contentsOf: Array("WAVEfmt ".utf8))
        wav.append(contentsOf: u32(16) + u16(1) + u16(1) + u32(16000) + u32(32000) + u16(2) + u16(16))
        wav.append(contentsOf: Array("data".utf8)); wav.append(contentsOf: u32(UInt32(pcm.count))); wav.append(pcm)
        let input = dir.appendingPathComponent("tone.wav").path, out = dir.appendingPathComponent("mel.npy").path
        FileManager.default.createFile(atPath: input, contents: wav)
        let r = try omni(["audio", "mel", input, "--n-mels", "80", "--out", out])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any])
        #expect(json["shape"] as? [Int] == [80, 100])
        #expect(FileManager.default.fileExists(atPath: out))
        let bad = try omni(["audio", "mel", dir.appendingPathComponent("tone.png").path, "--out", out])
        #expect(bad.status != 0 && bad.stderr.split(separator: "\n").count == 1)
    }
}
