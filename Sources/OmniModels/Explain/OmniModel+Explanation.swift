// Explaining one image: the model runs once on the image (and an optional text prompt) for a
// task, and the image encoder's self-attention (attention rollout) or the fusion's co-attention
// from the text to the image becomes a relevance map over the image's patch grid, alongside the
// router's gates.
import OmniData
import OmniNN
import OmniTensor

extension OmniModel {
    /// Which patches of `image` matter, by `method`, and the router's gates.
    ///
    /// Runs without gradients in the model's current mode: call `eval()` first so dropout is off.
    ///
    /// - Parameters:
    ///   - image: float32 [C, H, W], preprocessed as the encoder expects
    ///     (``ImagePreprocessing/modelInput(_:for:)``).
    ///   - text: token ids of a prompt (at most the text encoder's `maxLength`), or nil.
    ///   - task: index into ``OmniModelConfiguration/tasks``.
    ///   - method: ``ExplanationMethod/rollout`` needs a ViT image backbone;
    ///     ``ExplanationMethod/coattention`` needs `text` and at least one co-attention block.
    ///   - rollout: the rollout's settings (default: from the class token when the ViT has one,
    ///     else from the mean of the tokens; heads averaged).
    /// - Throws: ``ExplanationError`` when the model or the inputs cannot give that explanation.
    ///
    /// ```swift
    /// model.eval()
    /// let x = ImagePreprocessing.modelInput(try Image(contentsOfFile: "scene.png"), for: model.configuration.image!)
    /// let e = try model.explainImage(x, task: model.taskIndex("image_captioning")!)
    /// try Heatmap(e.relevance, width: 256, height: 256).colored().write(toFile: "relevance.png")
    /// ```
    public func explainImage(_ image: Tensor, text: [Int]? = nil, task: Int, method: ExplanationMethod = .rollout,
                             rollout: AttentionRollout? = nil) throws -> ImageExplanation {
        let c = configuration
        guard let imageEncoder, let imageConfiguration = c.image else {
            throw ExplanationError("the model \(c.name) has no image encoder")
        }
        guard image.rank == 3, image.shape[0] == imageConfiguration.channels, image.dtype == .float32 else {
            throw ExplanationError("the image must be float32 [\(imageConfiguration.channels), H, W], got \(image.dtype) \(image.shape)")
        }
        guard image.shape[1] >= imageEncoder.minimumSide, image.shape[2] >= imageEncoder.minimumSide else {
            throw ExplanationError("the image is \(image.shape[1])×\(image.shape[2]) pixels, smaller than \(imageEncoder.minimumSide)")
        }
        guard task >= 0 && task < c.tasks.count else {
            throw ExplanationError("task index \(task) is outside 0..<\(c.tasks.count) (\(c.tasks.joined(separator: ", ")))")
        }
        switch method {
        case .rollout:
            guard case .vit = imageConfiguration.backbone else {
                throw ExplanationError("attention rollout needs a ViT image backbone; this model's is \(imageEncoder.summary) (use the co-attention map)")
            }
        case .coattention:
            guard text != nil else { throw ExplanationError("the co-attention map needs a text prompt: it is the text tokens' attention over the image") }
            guard c.fusion.depth > 0 else { throw ExplanationError("the model \(c.name) has no co-attention blocks (fusion.depth 0)") }
        }
        var textBatch: TextEncoder.Batch? = nil
        if let text {
            guard let textConfiguration = c.text, textEncoder != nil else {
                throw ExplanationError("the model \(c.name) has no text encoder for the prompt")
            }
            guard !text.isEmpty else { throw ExplanationError("the prompt has no tokens") }
            guard text.count <= textConfiguration.maxLength else {
                throw ExplanationError("the prompt has \(text.count) tokens, more than the text encoder's maxLength \(textConfiguration.maxLength)")
            }
            if let bad = text.first(where: { $0 < 0 || $0 >= textConfiguration.vocabSize }) {
                throw ExplanationError("token id \(bad) is outside the text encoder's vocabulary of \(textConfiguration.vocabSize)")
            }
            textBatch = TextEncoder.Batch(sequences: [text])
        }

        let input = OmniInput(text: textBatch, image: ImageBatch(images: [image]), tasks: [task])
        let (encoded, attention, output) = GradMode.withoutGrad {
            let e = encode(input, returnImageAttention: method == .rollout)
            let out = fuse(e.encoded, tasks: input.tasks, returnMaps: method == .coattention)
            return (e.encoded, e.imageAttention, out)
        }
        let grid = imageEncoder.tokenGrid(height: image.shape[1], width: image.shape[2])
        let relevance: RelevanceMap
        switch method {
        case .rollout:
            let settings = rollout ?? AttentionRollout(source: grid.prefix > 0 ? .classToken : .meanOfTokens)
            if settings.source == .classToken && grid.prefix == 0 {
                throw ExplanationError("rollout from the class token needs a ViT with a class token; use the mean of the tokens")
            }
            relevance = settings.relevance(attention: attention, sample: 0, prefixTokens: grid.prefix,
                                           gridHeight: grid.height, gridWidth: grid.width)
        case .coattention:
            relevance = try CoAttentionExplanation(queryModality: .text, keyModality: .image)
                .relevance(maps: output.maps, queryMask: encoded[.text]!.mask, sample: 0, prefixTokens: grid.prefix,
                           gridHeight: grid.height, gridWidth: grid.width)
        }
        guard relevance.values.allSatisfy(\.isFinite) else {
            throw ExplanationError("the \(method.rawValue) relevance is not finite: the model's weights or the input hold NaN or infinity")
        }
        return ImageExplanation(method: method, relevance: relevance, gates: output.routed.gates(ofSample: 0), task: task)
    }
}
