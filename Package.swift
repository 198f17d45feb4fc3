// swift-tools-version: 6.1
import PackageDescription

// Hot loops live in the C target (see DESIGN.md §6): Swift without -target-cpu lowers
// SIMD.addProduct to fmaf calls, so kernels are plain C, auto-vectorised and multiversioned.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=fast"])]

let package = Package(
    name: "Omni",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "OmniTensor", targets: ["OmniTensor"]),
        .library(name: "OmniNN", targets: ["OmniNN"]),
        .library(name: "OmniOptim", targets: ["OmniOptim"]),
        .library(name: "OmniData", targets: ["OmniData"]),
        .library(name: "OmniModels", targets: ["OmniModels"]),
        .library(name: "OmniTrain", targets: ["OmniTrain"]),
        .executable(name: "omni", targets: ["omni"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // oneDNN 2.6 (Debian libdnnl-dev), the compute backend.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", pkgConfig: nil,
                       providers: [.apt(["libdnnl-dev"])]),
        // zlib (zlib1g-dev): deflate inside .npz archives and PyTorch checkpoints.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Image codecs: libpng (simplified png_image API) and libjpeg-turbo (turbojpeg.h).
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", providers: [.apt(["libturbojpeg0-dev"])]),
        // libsndfile: WAV/FLAC/OGG decode for the audio data layer.
        .systemLibrary(name: "CSndFile", path: "Sources/CSndFile", providers: [.apt(["libsndfile1-dev"])]),
        // FFmpeg 5.1: MP3/AAC/M4A and the audio of videos, and video decode (mp4, avi, mkv, webm).
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libswresample-dev", "libavutil-dev"])]),
        // CPU kernels, the oneDNN glue (primitive caches) and the thread pool (libgomp, shared with oneDNN).
        .target(name: "COmniKernels", dependencies: ["CDNNL"], cSettings: kernelFlags,
                linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp"), .linkedLibrary("m")]),
        .target(name: "OmniTensor", dependencies: ["COmniKernels", "CDNNL"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "OmniNN", dependencies: ["OmniTensor", "CZlib"]),
        .target(name: "OmniOptim", dependencies: ["OmniNN", "OmniTensor"]),
        // libpng glue: libpng reports errors by longjmp, which only C can catch.
        .target(name: "COmniImage", dependencies: ["CPNG"], linkerSettings: [.linkedLibrary("png16")]),
        // DICOM through GDCM 3.0 (libgdcm-dev): the one C++ target, behind extern "C" functions so that
        // no C++ reaches Swift (DESIGN.md §4). Debian installs GDCM's headers outside the default path.
        .target(name: "COmniDICOM",
                cxxSettings: [.unsafeFlags(["-I/usr/include/gdcm-3.0", "-O2"])],
                linkerSettings: [.linkedLibrary("gdcmMSFF"), .linkedLibrary("gdcmDSED"), .linkedLibrary("gdcmCommon"),
                                 .linkedLibrary("gdcmDICT"), .linkedLibrary("gdcmIOD"), .linkedLibrary("z")]),
        // FFmpeg glue: the demux → decode → swresample/swscale loops in C behind a narrow API.
        .target(name: "COmniMedia", dependencies: ["CFFmpeg"],
                linkerSettings: [.linkedLibrary("avformat"), .linkedLibrary("avcodec"), .linkedLibrary("swscale"),
                                 .linkedLibrary("swresample"), .linkedLibrary("avutil")]),
        .target(name: "OmniData", dependencies: ["OmniTensor", "OmniNN", "COmniKernels", "COmniImage", "COmniDICOM", "COmniMedia", "CPNG", "CTurboJPEG", "CSndFile"]),
        .target(name: "OmniModels", dependencies: ["OmniNN", "OmniOptim", "OmniData", "OmniTensor"]),
        // Losses, stages, trainer, metrics, checkpoints, run logs and plots (DESIGN.md §3).
        .target(name: "OmniTrain", dependencies: ["OmniModels", "OmniNN", "OmniOptim", "OmniData", "OmniTensor"]),
        .executableTarget(name: "omni", dependencies: [
            "OmniTensor", "OmniNN", "OmniOptim", "OmniData", "OmniModels", "OmniTrain", "CDNNL", "COmniKernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "OmniTensorTests", dependencies: ["OmniTensor"]),
        .testTarget(name: "OmniNNTests", dependencies: ["OmniNN", "OmniOptim", "OmniTensor"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OmniModelsTests", dependencies: ["OmniModels", "OmniNN", "OmniOptim", "OmniData", "OmniTensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "OmniTrainTests", dependencies: ["OmniTrain", "OmniModels", "OmniNN", "OmniOptim", "OmniData", "OmniTensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "OmniCLITests", dependencies: ["omni", "OmniTrain", "OmniModels", "OmniData", "OmniNN", "OmniTensor"]),
        .testTarget(name: "OmniDataTests", dependencies: ["OmniData", "OmniNN", "OmniTensor"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
