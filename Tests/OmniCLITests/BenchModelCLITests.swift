// `omni bench model`: the timing report ends with one JSON object; unknown configurations and
// bad sizes are one-line errors naming the option.
import Foundation
import Testing

@Suite(.serialized) struct BenchModelCLITests {
    @Test func timesTheViTForwardAndEndsWithJSON() throws {
        let r = try omni(["bench", "model", "--config", "vit-tiny-224", "--batch", "1", "--threads", "1", "--runs", "2", "--warmup", "0",
                          "--log-level", "error"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line is not a JSON object: \(r.lastLine)")
        #expect(json["config"] as? String == "vit-tiny-224")
        #expect(json["batch"] as? Int == 1 && json["threads"] as? Int == 1 && json["runs"] as? Int == 2)
        let (median, low, high) = (json["ms_median"] as? Double ?? -1, json["ms_min"] as? Double ?? -1, json["ms_max"] as? Double ?? -1)
        #expect(low > 0 && low <= median && median <= high, "ms_min \(low), ms_median \(median), ms_max \(high)")
    }

    @Test func unknownConfigurationIsOneLine() throws {
        let r = try omni(["bench", "model", "--config", "vit-huge-999"])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("--config") && r.stderr.contains("vit-tiny-224"),
                "stderr: \(r.stderr)")
        let b = try omni(["bench", "model", "--batch", "0"])
        #expect(b.status != 0 && b.stderr.contains("--batch"), "stderr: \(b.stderr)")
    }
}
