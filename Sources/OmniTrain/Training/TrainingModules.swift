// Everything a run trains, in one module so that a checkpoint holds it all: the model, the
// contrastive temperature and the pre-training heads (dropped when the model is exported).
import OmniData
import OmniModels
import OmniNN
import OmniTensor

/// Keys: `model.*`, `logit_scale.logit_scale`, `pretrain.image_patches`, `pretrain.audio_frames`.
public final class TrainingModules: Module, @unchecked Sendable {
    @ModuleInfo(key: "model") public var model: OmniModel
    @ModuleInfo(key: "logit_scale") public var logitScale: LogitScale
    @ModuleInfo(key: "pretrain") public var pretrainHeads: [String: Linear]

    /// The ViT patch size (image pre-training), or nil.
    public let patchSize: Int?

    public init(model: OmniModel, generator: Generator) {
        var patch: Int? = nil
        if case .vit(let v)? = model.configuration.image?.backbone { patch = v.patchSize }
        self.patchSize = patch
        super.init()
        self.model = model
        logitScale = LogitScale()
        let d = model.configuration.dimension
        var heads: [String: Linear] = [:]
        if let patch { heads["image_patches"] = Linear(d, 3 * patch * patch, generator: generator) }
        if model.configuration.audio?.frontend == .logMel {
            heads["audio_frames"] = Linear(d, 2 * (model.configuration.audio?.melBins ?? 80), generator: generator)
        }
        pretrainHeads = heads
    }
}
