// swift-tools-version: 6.1
// libFuzzer targets for Omni's parsers (DESIGN.md §8). A separate package, so the main build never
// needs the fuzzer runtime. Build and run them with `scripts/fuzz`, which instruments Omni's own
// modules too (-sanitize=fuzzer,address for Swift, -fsanitize=fuzzer-no-link,address for C).
import PackageDescription

func target(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: "Omni") },
                      linkerSettings: [.unsafeFlags(["-use-ld=lld"])])  // gold crashes on the sanitizer objects
}

let package = Package(
    name: "OmniFuzz",
    dependencies: [.package(name: "Omni", path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer"]),
        target("FuzzNPY", ["OmniNN"]),
        target("FuzzImage", ["OmniData"]),
        target("FuzzAudio", ["OmniData"]),
        target("FuzzManifest", ["OmniData"]),
        target("FuzzDICOM", ["OmniData"]),
        target("FuzzSignal", ["OmniData"]),
        target("FuzzMedia", ["OmniData"]),
    ]
)
