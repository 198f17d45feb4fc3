// `omni model describe` end to end: presets, config files and model folders; one-line errors.
import Foundation
import Testing

@Suite struct ModelCLITests {
    @Test func describesThePresets() throws {
        var totals: [Int] = []
        for preset in ["tiny", "small", "base"] {
            let r = try omni(["model", "describe", preset, "--depth", "1"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let json = try #require(jsonObject(r.lastLine) as? [String: Any], "\(preset): last line \(r.lastLine)")
            let parts = try #require(json["parameters"] as? [String: Int])
            let groups = try #require(json["groups"] as? [String: Int])
            let total = try #require(json["total"] as? Int)
            #expect(parts.values.reduce(0, +) == total, "\(preset): parts do not add up to the total")
            #expect(groups.values.reduce(0, +) == total)
            for key in ["text_encoder", "image_encoder", "audio_encoder", "video_encoder", "signal_encoder", "router", "co_attention", "decoder"] {
                #expect((parts[key] ?? 0) > 0, "\(preset): \(key)")
            }
            #expect(r.stdout.contains("router: DynamicAttentionRouter(dynamic"))
            totals.append(total)
        }
        #expect(totals[0] < totals[1] && totals[1] < totals[2])
    }

    @Test func describesAConfigFileAndRejectsBadOnes() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "omni-cli-model-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // a preset's JSON with one change is read back from a folder
        let tiny = try omni(["model", "describe", "tiny", "--depth", "0"])
        #expect(tiny.status == 0)
        let bad = dir.appending(path: "config.json")
        try Data(#"{"name": "x", "dimension": 0, "fusion": {"kind": "dynamic", "depth": 1, "heads": 4, "mlpRatio": 4, "dropout": 0}, "heads": {"embeddingDimension": 8}, "tasks": ["a"]}"#.utf8).write(to: bad)
        let r = try omni(["model", "describe", dir.path])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("config.json") && r.stderr.contains("dimension"), "stderr: \(r.stderr)")
        let missing = try omni(["model", "describe", "/no/such/model"])
        #expect(missing.status != 0 && missing.stderr.contains("/no/such/model"))
    }
}
