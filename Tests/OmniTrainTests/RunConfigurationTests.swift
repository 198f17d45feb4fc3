// RUN.json: keys with defaults may be left out, `null` means "none" for optional settings, the
// demo run and its ablation variants round-trip, and a missing required key is named.
import Foundation
import OmniData
import OmniModels
import Testing
import OmniTrain

@Suite struct RunConfigurationTests {
    @Test func leftOutKeysTakeTheirDefaults() throws {
        let json = #"{"corpus": "c", "stages": [{"kind": "align", "steps": 10}, {"kind": "pretrain", "steps": 3, "clipNorm": null, "batchSize": 8}]}"#
        let run = try JSONDecoder().decode(RunConfiguration.self, from: Data(json.utf8))
        #expect(run == RunConfiguration(corpus: "c", stages: [
            StageConfiguration(kind: .align, steps: 10),
            StageConfiguration(kind: .pretrain, steps: 3, batchSize: 8, clipNorm: nil),
        ]))
        #expect(run.preset == "tiny" && run.stages[0].clipNorm == 1 && run.stages[1].clipNorm == nil)
        let none = try JSONDecoder().decode(RunConfiguration.self, from: Data(#"{"corpus": "c", "preset": null, "stages": []}"#.utf8))
        #expect(none.preset == nil && none.problems.contains { $0.hasPrefix("stages:") })
    }

    @Test(arguments: AblationVariant.allCases)
    func demoRunsRoundTrip(variant: AblationVariant) throws {
        let run = RunConfiguration.demo(variant, corpus: "omni-demo/corpus", seed: 4, scale: 0.5)
        let back = try JSONDecoder().decode(RunConfiguration.self, from: try JSONEncoder().encode(run))
        #expect(back == run)
        #expect(run.problems.isEmpty, "\(run.problems)")
    }

    @Test func ablationVariantsChangeWhatTheySay() throws {
        let base = RunConfiguration.demo(corpus: "c")
        #expect(RunConfiguration.demo(.threeStage, corpus: "c") == base)
        let fixed = RunConfiguration.demo(.fixedFusion, corpus: "c")
        #expect(try fixed.modelConfiguration().fusion.kind == .fixed && fixed.stages == base.stages)
        let e2e = RunConfiguration.demo(.endToEnd, corpus: "c")
        #expect(e2e.stages.count == 1 && e2e.stages[0].kind == .instruct && e2e.stages[0].freeze.isEmpty && e2e.stages[0].alignment == nil)
        #expect(e2e.stages[0].steps == base.stages.reduce(0) { $0 + $1.steps })
        var bad = base
        bad.stages[0].alignment = AlignmentTerm(weight: 0, batchSize: 1)
        #expect(bad.problems == ["stages.0.alignment: only an instruct stage takes an alignment term",
                                 "stages.0.alignment.batchSize must be at least 2", "stages.0.alignment.weight must be positive"])
    }

    @Test func aMissingRequiredKeyIsNamed() {
        do {
            _ = try JSONDecoder().decode(RunConfiguration.self, from: Data(#"{"stages": []}"#.utf8))
            Issue.record("decoded without a corpus")
        } catch {
            #expect("\(error)".contains("corpus"))
        }
    }
}
