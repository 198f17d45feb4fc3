// `omni data tasks` and `omni signal info|stft` end to end: report on stdout, the JSON last line,
// one-line errors naming the argument or the file and line.
import Foundation
import Testing

@Suite struct DataTasksCLITests {
    @Test func listsAtLeastFiftyTasks() throws {
        let r = try omni(["data", "tasks"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line is not JSON: \(r.lastLine)")
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        #expect((json["count"] as? Int) == tasks.count && tasks.count >= 50)
        for t in tasks {
            let name = try #require(t["name"] as? String)
            #expect((t["phrasings"] as? Int ?? 0) >= 5, "\(name)")
            #expect(!(t["modalities"] as? [String] ?? []).isEmpty, "\(name)")
            #expect(!(t["placeholders"] as? [String] ?? []).isEmpty, "\(name)")
            #expect(t["templates"] == nil)
            #expect(r.stdout.contains("\n\(name) "), "\(name) is not in the table")
        }
        #expect(r.stdout.contains("\(tasks.count) tasks\n"))
        let names = tasks.compactMap { $0["name"] as? String }
        #expect(names.contains("defect_explanation") && names.contains("radiology_report_drafting"))
    }

    @Test func filtersByModalityAndPrintsTemplatesAsJSON() throws {
        let all = try #require(jsonObject(try omni(["data", "tasks"]).lastLine) as? [String: Any])
        let audio = try omni(["data", "tasks", "--modality", "AUDIO", "--json"])
        #expect(audio.status == 0, "stderr: \(audio.stderr)")
        #expect(audio.stdout.split(separator: "\n").count == 1, "--json prints only the JSON line")
        let json = try #require(jsonObject(audio.lastLine) as? [String: Any])
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        #expect(json["modality"] as? String == "audio")
        #expect(tasks.count >= 5 && tasks.count < (all["count"] as? Int ?? 0))
        for t in tasks {
            #expect((t["modalities"] as? [String] ?? []).contains("audio"), "\(t["name"] ?? "?")")
            let templates = try #require(t["templates"] as? [[String: String]])
            #expect(templates.count == t["phrasings"] as? Int)
            #expect(templates.allSatisfy { $0["input"] != nil && $0["target"] != nil })
        }
        let bad = try omni(["data", "tasks", "--modality", "smell"])
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("--modality") && bad.stderr.contains("smell"),
                "stderr was \(bad.stderr)")
    }

    @Test func signalSTFTWritesTheMagnitudeMap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two channels at 100 Hz: a 25 Hz tone (bin 4 of n_fft 16) and a constant.
        var csv = "time,tone,level\n"
        for i in 0..<64 { csv += String(format: "%.2f,%.9f,0.5\n", Double(i) / 100, sin(2 * Double.pi * 25 * Double(i) / 100)) }
        let input = dir.appendingPathComponent("vib.csv").path, out = dir.appendingPathComponent("map.npy").path
        FileManager.default.createFile(atPath: input, contents: Data(csv.utf8))
        let r = try omni(["signal", "stft", input, "--out", out, "--n-fft", "16", "--hop", "4"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any])
        #expect(json["shape"] as? [Int] == [2, 9, 17])
        #expect(json["sample_rate"] as? Double == 100 && json["channel_names"] as? [String] == ["tone", "level"])
        // Read the float32 payload after the .npy header and check against the analytic values:
        // the periodic Hann window's DFT is N/2 at bin 0, −N/4 at bin 1 and 0 beyond, so the constant
        // 0.5 channel has |X| = 4, 2, 0, 0, … in every frame.
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let floats = data.dropFirst(10 + headerLength).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(floats.count == 2 * 9 * 17)
        for t in 0..<17 {
            #expect(abs(floats[9 * 17 + t] - 4) < 1e-4, "level DC frame \(t): \(floats[9 * 17 + t])")
            #expect(abs(floats[9 * 17 + 17 + t] - 2) < 1e-4, "level bin 1 frame \(t)")
            for k in 2..<9 { #expect(abs(floats[9 * 17 + k * 17 + t]) < 1e-4, "level bin \(k) frame \(t)") }
        }
        for t in 2..<15 {
            let column = (0..<9).map { floats[$0 * 17 + t] }
            #expect(column.firstIndex(of: column.max()!) == 4, "tone frame \(t): \(column)")
        }

        let info = try omni(["signal", "info", input])
        #expect(info.status == 0, "stderr: \(info.stderr)")
        let summary = try #require(jsonObject(info.lastLine) as? [String: Any])
        #expect(summary["channels"] as? Int == 2 && summary["samples"] as? Int == 64 && summary["sample_rate"] as? Double == 100)

        FileManager.default.createFile(atPath: input, contents: Data("time,tone\n0,1\n0.01,2\n0.02\n".utf8))
        let bad = try omni(["signal", "stft", input, "--out", out])
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("\(input):4:"), "stderr was \(bad.stderr)")
        let short = dir.appendingPathComponent("short.csv").path
        FileManager.default.createFile(atPath: short, contents: Data("x\n1\n2\n3\n".utf8))
        let tooShort = try omni(["signal", "stft", short, "--out", out, "--sample-rate", "10"])
        #expect(tooShort.status != 0 && tooShort.stderr.contains("too few for --n-fft 64"), "stderr was \(tooShort.stderr)")
        let noRate = try omni(["signal", "info", short])
        #expect(noRate.status != 0 && noRate.stderr.contains("no time column"), "stderr was \(noRate.stderr)")
    }
}
