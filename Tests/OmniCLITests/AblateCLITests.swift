// `omni ablate` end to end on the small generated corpus with one step per stage: every
// (variant, seed) is trained and evaluated, the summary's means and spreads agree with the per-run
// values in ablations.json (recomputed here in Float64), finished runs are reused, and bad
// arguments are one-line errors.
import Foundation
import Testing

@Suite(.serialized) struct AblateCLITests {
    @Test func trainsEveryVariantAndSeedAndSummarises() throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "omni-ablate-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let synth = try omni(["data", "synth", "--out", base + "/corpus", "--small", "--seed", "2"])
        #expect(synth.status == 0, "stderr: \(synth.stderr)")
        let args = ["ablate", "--dir", base, "--seeds", "0,1", "--scale", "0.002"]
        let r = try omni(args)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("reusing the demo corpus"))
        let studies = try #require(jsonObject(r.lastLine) as? [[String: Any]], "last line: \(r.lastLine)")
        #expect(studies.compactMap { $0["study"] as? String } == ["router", "stages"])

        let data = try #require(FileManager.default.contents(atPath: base + "/ablations.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let runs = try #require(summary["runs"] as? [[String: Any]])
        // three-stage is shared by both studies: 3 variants × 2 seeds
        #expect(runs.count == 6)
        for variant in ["three-stage", "fixed-fusion", "end-to-end"] {
            #expect(Set(runs.filter { $0["variant"] as? String == variant }.compactMap { $0["seed"] as? Int }) == [0, 1], "\(variant)")
        }
        for run in runs {
            let bias = try #require(run["modality_bias"] as? Double, "\(run)")
            #expect(bias >= 0 && bias <= 1)
            #expect(run["vqa_accuracy"] is Double && run["vqa_accuracy_without_image"] is Double)
            #expect((run["train_seconds"] as? Double ?? 0) > 0, "\(run)")
        }
        for study in try #require(summary["studies"] as? [[String: Any]]) {
            let metric = try #require(study["metric"] as? String)
            let variants = try #require(study["variants"] as? [String: [String: Double]])
            for (variant, stats) in variants {
                let values = runs.filter { $0["variant"] as? String == variant }.compactMap { $0[metric] as? Double }
                #expect(values.count == 2)
                let mean = values.reduce(0, +) / 2
                let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }).squareRoot()   // n − 1 = 1
                #expect(abs(stats["mean"]! - mean) < 1e-12 && abs(stats["std"]! - std) < 1e-12, "\(variant) \(metric)")
                #expect(stats["n"] == 2)
            }
        }
        let markdown = try String(contentsOfFile: base + "/ablations.md", encoding: .utf8)
        #expect(markdown.contains("| fixed-fusion |") && markdown.contains("| end-to-end |"))

        // finished runs are reused: the same results again, without training
        let again = try omni(args + ["--study", "router"])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        let router = try #require((jsonObject(again.lastLine) as? [[String: Any]])?.first)
        #expect(router["study"] as? String == "router")
    }

    @Test func badArgumentsAreOneLineErrors() throws {
        let study = try omni(["ablate", "--dir", "/nonexistent/x", "--study", "gates"])
        #expect(study.status != 0 && study.stderr.contains("--study") && study.stderr.contains("gates"))
        let seeds = try omni(["ablate", "--dir", "/nonexistent/x", "--seeds", "0,x"])
        #expect(seeds.status != 0 && seeds.stderr.contains("--seeds") && seeds.stderr.contains("'x'"))
        let scale = try omni(["ablate", "--dir", "/nonexistent/x", "--scale", "0"])
        #expect(scale.status != 0 && scale.stderr.contains("--scale"))
    }
}
