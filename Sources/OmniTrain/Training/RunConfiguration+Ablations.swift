// The ablations the article claims (issue 6): the dynamic router against fixed-weight fusion, and
// three-stage training against end-to-end training, each a variant of the demo run on the same
// corpus. `omni ablate` trains them over several seeds; docs/ablations.md has the results.
import OmniModels

/// A variant of the demo run for an ablation study.
public enum AblationVariant: String, Codable, Sendable, CaseIterable {
    /// The demo run itself: dynamic router, pretrain → align → instruct.
    case threeStage = "three-stage"
    /// The demo run with the dynamic router replaced by one learned, input-independent gate per
    /// modality (``FusionKind/fixed``).
    case fixedFusion = "fixed-fusion"
    /// One instruction-tuning stage from random initialisation with nothing frozen, for as many
    /// optimiser steps as the three stages together (no pre-training, no contrastive alignment or
    /// alignment term).
    case endToEnd = "end-to-end"

    /// What the variant changes, in a sentence.
    public var summary: String {
        switch self {
        case .threeStage: return "dynamic router; pretrain → align → instruct (the demo run)"
        case .fixedFusion: return "fixed learned gate per modality instead of the dynamic router; same three stages"
        case .endToEnd: return "instruct objective only, from scratch, nothing frozen, steps = the three stages' total"
        }
    }
}

/// An ablation study: which variants it compares and on which metric.
public enum AblationStudy: String, Codable, Sendable, CaseIterable {
    /// Dynamic router vs fixed-weight fusion, on VQA accuracy (the article: +12 %).
    case router
    /// Three-stage vs end-to-end training, on the VQA modality-bias score (the article: −35 %).
    case stages

    public var variants: [AblationVariant] {
        switch self {
        case .router: return [.threeStage, .fixedFusion]
        case .stages: return [.threeStage, .endToEnd]
        }
    }
}

extension RunConfiguration {
    /// The demo run (``demo(corpus:seed:scale:)``) changed as `variant` says.
    public static func demo(_ variant: AblationVariant, corpus: String, seed: UInt64 = 0, scale: Double = 1) -> RunConfiguration {
        var run = demo(corpus: corpus, seed: seed, scale: scale)
        switch variant {
        case .threeStage:
            break
        case .fixedFusion:
            var model = try! run.modelConfiguration()   // the demo's preset exists
            model.fusion.kind = .fixed
            run.model = model
        case .endToEnd:
            let instruct = run.stages.first { $0.kind == .instruct }!
            var stage = instruct
            stage.steps = run.stages.reduce(0) { $0 + $1.steps }
            stage.freeze = []
            stage.alignment = nil
            run.stages = [stage]
        }
        return run
    }
}
