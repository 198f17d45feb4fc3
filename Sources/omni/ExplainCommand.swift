// `omni explain`: a heatmap of where an omni-modal model looks in an image (attention rollout over
// the ViT image encoder, or the text prompt's co-attention over the image), blended over the
// image, plus the router's gates.
import ArgumentParser
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor

extension ExplanationMethod: ExpressibleByArgument {}
extension AttentionRollout.Source: ExpressibleByArgument {}
extension AttentionRollout.HeadFusion: ExpressibleByArgument {}
extension ColorMap: ExpressibleByArgument {}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Writes a heatmap of the image regions a model attends to, and prints the router's gates.",
        discussion: """
            --model is a model folder (config.json + model.safetensors, as OmniModel.save writes). \
            The image (PNG or JPEG) is preprocessed as the model's image encoder expects \
            (ImagePreprocessing: RGB, squashed to the ViT's square side, mean/std 0.5). \
            --text is encoded with the folder's tokenizer (config.json's tokenizer.file). \
            Methods: rollout (attention rollout, Abnar & Zuidema 2020, over the ViT's self-attention, \
            from the class token; needs a ViT backbone) and coattention (the text tokens' attention \
            over the image patches in the co-attention blocks; needs --text). The relevance grid is \
            upsampled bilinearly, normalised to 0…1, colour-mapped and blended over the image. \
            The last line of stdout is JSON: method, out, gates per modality, task, grid, peak.
            """)

    @Option(help: "Model folder (config.json + model.safetensors).") var model: String
    @Option(help: "The image (PNG or JPEG).") var image: String
    @Option(help: "A text prompt (needs a tokenizer in the model folder).") var text: String?
    @Option(help: "Task name (default: image_captioning if the model has it, else its first task).") var task: String?
    @Option(help: "rollout or coattention.") var method: ExplanationMethod = .rollout
    @Option(help: "Rollout from the class token (cls) or the mean of all tokens (mean); default cls when the ViT has a class token.")
    var rolloutSource: AttentionRollout.Source?
    @Option(help: "How the rollout fuses heads: mean or max.") var headFusion: AttentionRollout.HeadFusion = .mean
    @Option(help: "The heatmap picture to write (.png, .jpg).") var out: String
    @Option(help: "Also write the gates and the relevance grid as JSON to this file.") var gates: String?
    @Option(help: "Colour map: ember (inferno-like) or grayscale.") var colormap: ColorMap = .ember
    @Option(help: "Opacity of the heatmap over the image, 0…1.") var opacity: Float = 0.5
    @Option(help: "Longer side of the written picture in pixels (default: the input image's size, at most \(ExplainCommand.largestDefaultSide)).")
    var displaySize: Int?
    @Flag(help: "Write the image, the heatmap and the overlay side by side.") var panel = false
    @Option(help: "Threads (default: OMNI_NUM_THREADS, else the number of cores).") var threads: Int?
    @OptionGroup var global: GlobalOptions

    /// Larger inputs are written at this longer side unless --display-size says otherwise.
    static let largestDefaultSide = 2048

    func validate() throws {
        guard opacity >= 0 && opacity <= 1 else { throw ValidationError("--opacity must be in 0…1, got \(opacity)") }
        if let displaySize, !(8...8192).contains(displaySize) {
            throw ValidationError("--display-size must be in 8…8192, got \(displaySize)")
        }
        let ext = URL(fileURLWithPath: out).pathExtension.lowercased()
        guard ["png", "jpg", "jpeg"].contains(ext) else {
            throw ValidationError("--out \(out): unknown image extension '.\(ext)' (use .png, .jpg or .jpeg)")
        }
    }

    struct Report: Encodable {
        let method: String
        let out: String
        let gates: [String: Double]
        let task: String
        let grid: [Int]
        let peak: [Int]
        let gatesFile: String?

        enum CodingKeys: String, CodingKey {
            case method, out, gates, task, grid, peak
            case gatesFile = "gates_file"
        }
    }

    struct GatesFile: Encodable {
        let model: String
        let image: String
        let text: String?
        let method: String
        let task: String
        let gates: [String: Double]
        let grid: [Int]
        /// Rows of the relevance grid (raw scores).
        let relevance: [[Double]]
    }

    func run() throws {
        _ = try global.makeLogger("omni.explain")
        _ = applyThreads(threads)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("\(model): no such model folder")
        }
        let folder = URL(fileURLWithPath: model)
        let omniModel: OmniModel
        do { omniModel = try OmniModel.load(from: folder) } catch { throw CLIError("\(error)") }
        let configuration = omniModel.configuration
        guard let imageConfiguration = configuration.image else {
            throw CLIError("\(model): the model \(configuration.name) has no image encoder")
        }

        let picture: Image
        do { picture = try Image(contentsOfFile: image) } catch { throw CLIError("\(error)") }

        let taskName = task ?? (configuration.tasks.contains("image_captioning") ? "image_captioning" : configuration.tasks[0])
        guard let taskIndex = omniModel.taskIndex(taskName) else {
            throw CLIError("--task \(taskName): not one of the model's tasks (\(configuration.tasks.joined(separator: ", ")))")
        }

        var ids: [Int]? = nil
        if let text {
            guard let tokenizerConfiguration = configuration.tokenizer else {
                throw CLIError("\(folder.appending(path: OmniModel.configurationFile).path): the model has no tokenizer (config key 'tokenizer'), so --text cannot be encoded")
            }
            let tokenizer: any Tokenizer
            do { tokenizer = try tokenizerConfiguration.load(from: folder) } catch { throw CLIError("\(error)") }
            ids = tokenizer.encode(text, addSpecialTokens: true)
        }

        omniModel.eval()
        let input = ImagePreprocessing.modelInput(picture, for: imageConfiguration)   // [3, S, S]
        var rollout: AttentionRollout? = nil
        if method == .rollout {
            let grid = omniModel.imageEncoder!.tokenGrid(height: input.shape[1], width: input.shape[2])
            let source = rolloutSource ?? (grid.prefix > 0 ? .classToken : .meanOfTokens)
            rollout = AttentionRollout(source: source, headFusion: headFusion)
        }
        let explanation: ImageExplanation
        do {
            explanation = try omniModel.explainImage(input, text: ids, task: taskIndex, method: method, rollout: rollout)
        } catch let error as ExplanationError {
            throw CLIError("\(model): \(error.message)")
        }

        // The picture: the input image (optionally rescaled), the heatmap over it.
        var base = picture.rgb().to8Bit()
        let longer = max(base.width, base.height)
        if let side = displaySize ?? (longer > ExplainCommand.largestDefaultSide ? ExplainCommand.largestDefaultSide : nil) {
            let scale = Double(side) / Double(longer)
            base = base.resized(width: max(Int((Double(base.width) * scale).rounded()), 1),
                                height: max(Int((Double(base.height) * scale).rounded()), 1))
        }
        let relevance = explanation.relevance
        let heatmap = Heatmap(relevance, width: base.width, height: base.height)
        let overlay = heatmap.overlaid(on: base, colorMap: colormap, opacity: opacity)
        let written = panel ? sideBySide([base, heatmap.colored(colormap), overlay]) : overlay
        do { try written.write(toFile: out) } catch { throw CLIError("\(error)") }

        let gateValues = Dictionary(uniqueKeysWithValues: explanation.gates.map { ($0.key.rawValue, rounded(Double($0.value), 6)) })
        if let gates {
            let file = GatesFile(model: model, image: image, text: text, method: method.rawValue, task: taskName, gates: gateValues,
                                 grid: [relevance.height, relevance.width],
                                 relevance: (0..<relevance.height).map { r in
                                     (0..<relevance.width).map { rounded(relevance[r, $0], 8) }
                                 })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do { try encoder.encode(file).write(to: URL(fileURLWithPath: gates), options: .atomic) } catch {
                throw CLIError("\(gates): cannot write (\(error.localizedDescription))")
            }
        }

        // Report.
        let peak = relevance.peak
        let side = input.shape[1]
        let cellHeight = Double(picture.height) / Double(relevance.height), cellWidth = Double(picture.width) / Double(relevance.width)
        var describedMethod = method.rawValue
        if let rollout { describedMethod += " (from \(rollout.source == .classToken ? "the class token" : "the mean of the tokens"), heads \(rollout.headFusion.rawValue))" }
        print("model \(configuration.name) (\(model)), task \(taskName)")
        print("image \(image): \(picture.width)×\(picture.height) → \(side)×\(side) model input, \(relevance.height)×\(relevance.width) patches")
        if let ids { print("text \(ids.count) tokens") }
        print("method \(describedMethod)")
        var table = TextTable(["modality", "gate"])
        for (m, g) in explanation.gates.sorted(by: { $0.key < $1.key }) { table.add([m.rawValue, fixed(Double(g), 4)]) }
        print(table.render())
        print("most relevant patch: row \(peak.row), column \(peak.column) (pixels x \(Int(Double(peak.column) * cellWidth))…\(Int(Double(peak.column + 1) * cellWidth) - 1), y \(Int(Double(peak.row) * cellHeight))…\(Int(Double(peak.row + 1) * cellHeight) - 1) of the input)")
        print("wrote \(out) (\(written.width)×\(written.height))" + (gates.map { " and \($0)" } ?? ""))
        try printJSONLine(Report(method: method.rawValue, out: out, gates: gateValues, task: taskName,
                                 grid: [relevance.height, relevance.width], peak: [peak.row, peak.column], gatesFile: gates))
    }

    /// Images of equal height next to each other, 4 white pixels apart.
    func sideBySide(_ images: [Image]) -> Image {
        let gap = 4, height = images[0].height
        let width = images.map(\.width).reduce(0, +) + gap * (images.count - 1)
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        var x0 = 0
        for image in images {
            let p = image.rgb().to8Bit().samples8!
            for y in 0..<min(height, image.height) {
                for x in 0..<image.width {
                    for c in 0..<3 { pixels[(y * width + x0 + x) * 3 + c] = p[(y * image.width + x) * 3 + c] }
                }
            }
            x0 += image.width + gap
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }
}
