// `omni explain` end to end: a small model saved with OmniModel.save (with and without a
// tokenizer), both methods, the written picture decoded back, the JSON result and gates file, and
// one-line errors for bad inputs.
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor
import Testing

/// A folder with a saved image-and-text model (32 px images in 8 px patches), a BPE tokenizer
/// when `tokenizer` is set, and a 40×24 test picture.
private struct ExplainFixture {
    let directory: URL
    var model: URL { directory.appending(path: "model") }
    var image: URL { directory.appending(path: "scene.png") }

    init(name: String, tokenizer: Bool) throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "omni-cli-explain-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let d = 16
        let vit = VisionTransformerConfiguration(imageSize: 32, patchSize: 8, dimension: d, depth: 2, heads: 2,
                                                 mlpHiddenSize: 32, classCount: 0)
        var configuration = OmniModelConfiguration(
            name: "cli-explain", dimension: d,
            text: .rotary(vocabSize: 300, dimension: d, layers: 1, heads: 2, maxLength: 32),
            image: ImageEncoderConfiguration(backbone: .vit(vit), dimension: d),
            fusion: FusionConfiguration(kind: .dynamic, depth: 1, heads: 2),
            heads: HeadsConfiguration(embeddingDimension: 8),
            tasks: ["image_captioning", "visual_question_answering"])
        if tokenizer {
            let bpe = BPETrainer(vocabularySize: 280).train(on: ["a red circle", "two blue squares", "what colour is the star?"])
            try bpe.save(to: model.appending(path: "tokenizer.tiktoken"))
            configuration.tokenizer = TokenizerConfiguration(kind: .tiktoken, file: "tokenizer.tiktoken", pattern: "gpt2")
        }
        try OmniModel(configuration, generator: Generator(seed: 5)).save(to: model)
        var pixels = [UInt8](repeating: 30, count: 40 * 24 * 3)
        for y in 4..<12 { for x in 20..<30 { pixels[(y * 40 + x) * 3] = 230 } }
        try Image(width: 40, height: 24, channels: 3, pixels: pixels).write(toFile: image.path)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@Suite(.serialized) struct ExplainCLITests {
    @Test func rolloutWritesAHeatmapAndTheGates() throws {
        let f = try ExplainFixture(name: "rollout", tokenizer: false)
        defer { f.remove() }
        let out = f.directory.appending(path: "heat.png").path, gates = f.directory.appending(path: "gates.json").path
        let r = try omni(["explain", "--model", f.model.path, "--image", f.image.path, "--out", out, "--gates", gates])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line: \(r.lastLine)")
        #expect(json["method"] as? String == "rollout" && json["out"] as? String == out)
        #expect(json["task"] as? String == "image_captioning" && json["grid"] as? [Int] == [4, 4])
        let gateValues = try #require(json["gates"] as? [String: Double])
        #expect(gateValues.keys.sorted() == ["image"] && gateValues["image"].map { $0 > 0 && $0 < 1 } == true, "\(gateValues)")
        #expect(r.stdout.contains("from the class token"))
        let picture = try Image(contentsOfFile: out)
        #expect(picture.width == 40 && picture.height == 24 && picture.channels == 3)
        let file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: gates))) as? [String: Any])
        let relevance = try #require(file["relevance"] as? [[Double]])
        #expect(relevance.count == 4 && relevance.allSatisfy { $0.count == 4 && $0.allSatisfy { $0 > 0 } })
        #expect(file["gates"] as? [String: Double] == gateValues)
        let peak = try #require(json["peak"] as? [Int])
        let flat = relevance.flatMap { $0 }
        #expect(flat[peak[0] * 4 + peak[1]] == flat.max(), "peak \(peak) is the largest cell of \(relevance)")
    }

    @Test func coAttentionWithATextPromptWritesAPanel() throws {
        let f = try ExplainFixture(name: "coattention", tokenizer: true)
        defer { f.remove() }
        let out = f.directory.appending(path: "panel.png").path
        let r = try omni(["explain", "--model", f.model.path, "--image", f.image.path, "--text", "what colour is the star?",
                          "--task", "visual_question_answering", "--method", "coattention", "--panel", "--display-size", "60",
                          "--out", out])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line: \(r.lastLine)")
        #expect(json["method"] as? String == "coattention" && json["task"] as? String == "visual_question_answering")
        let gateValues = try #require(json["gates"] as? [String: Double])
        #expect(gateValues.keys.sorted() == ["image", "text"], "\(gateValues)")
        let picture = try Image(contentsOfFile: out)
        #expect(picture.width == 3 * 60 + 2 * 4 && picture.height == 36, "\(picture.width)×\(picture.height)")
        // the first panel is the (rescaled) input, left untouched
        #expect(picture[x: 3, y: 3, channel: 0] == 30)
    }

    @Test func tinyPresetExplainsADemoScene() throws {
        // the preset the demo trains: 64 px scenes in 8 px patches, an 8×8 grid
        let directory = FileManager.default.temporaryDirectory.appending(path: "omni-cli-explain-tiny-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appending(path: "model")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = try #require(OmniModelConfiguration.preset("tiny"))
        let captions = SceneSpec.all.prefix(40).map(\.caption)
        try BPETrainer(vocabularySize: 400).train(on: captions).save(to: folder.appending(path: "tokenizer.tiktoken"))
        configuration.tokenizer = TokenizerConfiguration(kind: .tiktoken, file: "tokenizer.tiktoken")
        try OmniModel(configuration, generator: Generator(seed: 1)).save(to: folder)
        let scene = directory.appending(path: "scene.png").path
        try ShapeScene.render(SceneSpec(shape: .star, color: .yellow, size: .large, count: 1), side: 64, generator: Generator(seed: 2))
            .write(toFile: scene)
        for method in ["rollout", "coattention"] {
            let out = directory.appending(path: "\(method).png").path
            let r = try omni(["explain", "--model", folder.path, "--image", scene, "--text", "what shape is it?", "--method", method,
                              "--display-size", "256", "--out", out])
            #expect(r.status == 0, "\(method): \(r.stderr)")
            let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line: \(r.lastLine)")
            #expect(json["grid"] as? [Int] == [8, 8] && (json["gates"] as? [String: Double])?.count == 2)
            let picture = try Image(contentsOfFile: out)
            #expect(picture.width == 256 && picture.height == 256)
        }
    }

    @Test func badInputsAreOneLineErrors() throws {
        let f = try ExplainFixture(name: "bad", tokenizer: false)
        defer { f.remove() }
        let out = f.directory.appending(path: "x.png").path
        func expectError(_ arguments: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try omni(["explain"] + arguments)
            #expect(r.status != 0, "exit status 0 for \(arguments)", sourceLocation: sourceLocation)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
            for m in mentions { #expect(r.stderr.contains(m), "stderr '\(r.stderr)' lacks '\(m)'", sourceLocation: sourceLocation) }
            #expect(!FileManager.default.fileExists(atPath: out), "no picture on failure", sourceLocation: sourceLocation)
        }
        try expectError(["--model", "/no/such/model", "--image", f.image.path, "--out", out], mentions: ["/no/such/model"])
        let notImage = f.directory.appending(path: "notes.png")
        try Data("not a picture".utf8).write(to: notImage)
        try expectError(["--model", f.model.path, "--image", notImage.path, "--out", out], mentions: [notImage.path, "not a PNG or JPEG"])
        try expectError(["--model", f.model.path, "--image", f.directory.appending(path: "none.png").path, "--out", out], mentions: ["none.png"])
        try expectError(["--model", f.model.path, "--image", f.image.path, "--text", "a red circle", "--out", out], mentions: ["tokenizer", "config.json"])
        try expectError(["--model", f.model.path, "--image", f.image.path, "--method", "coattention", "--out", out], mentions: ["needs a text prompt"])
        try expectError(["--model", f.model.path, "--image", f.image.path, "--task", "juggling", "--out", out], mentions: ["juggling", "image_captioning"])
        try expectError(["--model", f.model.path, "--image", f.image.path, "--out", f.directory.appending(path: "x.gif").path], mentions: [".gif"])
        // a model folder whose weights are missing
        try FileManager.default.removeItem(at: f.model.appending(path: "model.safetensors"))
        try expectError(["--model", f.model.path, "--image", f.image.path, "--out", out], mentions: ["model.safetensors"])
    }
}
