// `omni classify`: ImageNet top-k of an image with a pretrained classifier.
import ArgumentParser
import Foundation
import OmniModels
import OmniNN
import OmniTensor

extension ImageClassifier.Architecture: ExpressibleByArgument {}

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Prints the top-k ImageNet classes of an image as a JSON array of {index, probability}.",
        discussion: """
            --weights is a torchvision checkpoint (e.g. mobilenet_v2-b0353104.pth, fetched by \
            scripts/fetch-assets into ~/.cache/omni/mobilenet_v2/, the default). The image (PNG or \
            JPEG) is resized to 256 on its shorter side, center-cropped to 224 and normalised as \
            torchvision does; --input-npy takes an already preprocessed [1, 3, 224, 224] tensor instead.
            """)

    @Option(help: "Architecture: \(ImageClassifier.Architecture.allCases.map(\.rawValue).joined(separator: ", ")).")
    var arch: ImageClassifier.Architecture = .mobileNetV2
    @Option(help: "Checkpoint file (default: the fetched MobileNetV2 weights).") var weights: String?
    @Option(help: "A preprocessed [1, 3, H, W] float32 .npy input instead of an image.") var inputNpy: String?
    @Option(help: "How many classes to print.") var topK = 5
    @Option(help: "Threads (default: OMNI_NUM_THREADS, else the number of cores).") var threads: Int?
    @Argument(help: "The image (PNG or JPEG).") var image: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (image == nil) != (inputNpy == nil) else { throw ValidationError("give either IMAGE or --input-npy") }
        guard topK > 0 && topK <= 1000 else { throw ValidationError("--top-k must be in 1...1000, got \(topK)") }
    }

    func run() throws {
        _ = try global.makeLogger("omni.classify")
        _ = applyThreads(threads)
        let weightsURL = weights.map { URL(fileURLWithPath: $0) } ?? Assets.file("mobilenet_v2/mobilenet_v2-b0353104.pth")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw CLIError("--weights \(weightsURL.path): no such file (scripts/fetch-assets fetches the MobileNetV2 checkpoint)")
        }
        let classifier: ImageClassifier
        do { classifier = try ImageClassifier(architecture: arch, weights: weightsURL) } catch { throw CLIError("\(error)") }
        let predictions: [ImageClassifier.Prediction]
        if let inputNpy {
            let input: Tensor
            do { input = try NPY.read(contentsOf: inputNpy) } catch { throw CLIError("\(error)") }
            guard input.dtype == .float32, input.rank == 4, input.shape[0] == 1, input.shape[1] == 3 else {
                throw CLIError("--input-npy \(inputNpy): expected a float32 [1, 3, H, W] tensor, got \(input.dtype) \(input.shape)")
            }
            guard (32...4096).contains(input.shape[2]), (32...4096).contains(input.shape[3]) else {
                throw CLIError("--input-npy \(inputNpy): image size \(input.shape[2])×\(input.shape[3]) is outside 32...4096")
            }
            predictions = classifier.classify(input: input, topK: topK)
        } else {
            let path = image!
            guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such file") }
            do { predictions = try classifier.classify(imageAt: URL(fileURLWithPath: path), topK: topK) } catch { throw CLIError("\(error)") }
        }
        try printJSONLine(predictions)
    }
}

struct BenchClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Images per second of a pretrained classifier's forward pass.",
        discussion: "The PyTorch comparison runs in scripts/bench-mobilenet.sh, which times the same architecture and weights in the same script.")

    @Option(help: "Architecture.") var arch: ImageClassifier.Architecture = .mobileNetV2
    @Option(help: "Checkpoint file (default: the fetched MobileNetV2 weights).") var weights: String?
    @Option(help: "Batch sizes, comma-separated.") var batch = "1,8"
    @Option(help: "Timed runs per batch size.") var runs = 10
    @Option(help: "Threads.") var threads = 2
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.bench.classify")
        let sizes = batch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw CLIError("--batch: expected positive sizes like 1,8, got '\(batch)'") }
        guard runs > 0, threads > 0 else { throw CLIError("--runs and --threads must be positive") }
        _ = applyThreads(threads)
        let weightsURL = weights.map { URL(fileURLWithPath: $0) } ?? Assets.file("mobilenet_v2/mobilenet_v2-b0353104.pth")
        let classifier: ImageClassifier
        do { classifier = try ImageClassifier(architecture: arch, weights: weightsURL) } catch { throw CLIError("\(error)") }
        var table = TextTable(["batch", "median ms", "min ms", "max ms", "images/s"])
        var results: [ImageClassifier.Benchmark] = []
        for b in sizes {
            let r = classifier.benchmark(batch: b, runs: runs)
            results.append(r)
            table.add([String(b), String(format: "%.2f", r.medianMilliseconds), String(format: "%.2f", r.minimumMilliseconds),
                       String(format: "%.2f", r.maximumMilliseconds), String(format: "%.1f", r.imagesPerSecond)])
        }
        print(table.render())
        try printJSONLine(results)
    }
}
