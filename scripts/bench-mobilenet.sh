#!/usr/bin/env bash
# MobileNetV2 (torchvision's mobilenet_v2, the real checkpoint) inference speed at 224 px, batch 1
# and 8: Omni (release build, folded + packed oneDNN convolutions, ImageClassifier.benchmark) and
# PyTorch 2.13 (NCHW, and channels_last: PyTorch's fast CPU layout for convnets) in one run,
# interleaved, because these machines are shared and noisy (DESIGN.md §6). Prints median, min and
# max per batch and images/s from the median, then the ratios.
#
#   scripts/bench-mobilenet.sh [THREADS=2] [ROUNDS=2] [RUNS=10]
#
# Needs the assets (scripts/fetch-assets; $OMNI_ASSETS or ~/.cache/omni) and PyTorch
# ($PYTHON, default /work/venv-torch/bin/python). Until the CLI has `omni bench classify`, Omni runs
# through a throwaway executable package outside the repo (kept in $OMNI_BENCH_DIR, default
# ${TMPDIR:-/tmp}/omni-bench-mobilenet, so later runs rebuild incrementally).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-2}"; rounds="${2:-2}"; runs="${3:-10}"
assets="${OMNI_ASSETS:-$HOME/.cache/omni}"
weights="$assets/mobilenet_v2/mobilenet_v2-b0353104.pth"
python="${PYTHON:-/work/venv-torch/bin/python}"
[ -f "$weights" ] || { echo "missing $weights: run scripts/fetch-assets" >&2; exit 1; }

bench="${OMNI_BENCH_DIR:-${TMPDIR:-/tmp}/omni-bench-mobilenet}"
mkdir -p "$bench/Sources/bench-mobilenet"
identity="$(basename "$root" | tr '[:upper:]' '[:lower:]')"
cat > "$bench/Package.swift" <<SWIFT
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "bench-mobilenet",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "$root")],
    targets: [.executableTarget(name: "bench-mobilenet", dependencies: [
        .product(name: "OmniModels", package: "$identity"), .product(name: "OmniTensor", package: "$identity")])]
)
SWIFT
cat > "$bench/Sources/bench-mobilenet/main.swift" <<'SWIFT'
import Foundation
import OmniModels
import OmniTensor

let runs = Int(CommandLine.arguments[1])!
let classifier = try ImageClassifier(architecture: .mobileNetV2, weights: Assets.file("mobilenet_v2/mobilenet_v2-b0353104.pth"))
for batch in [1, 8] {
    let r = classifier.benchmark(batch: batch, runs: runs, warmup: 2)
    print(String(format: "omni (folded, nhwc) mobilenet_v2 batch %d threads %d: median %.1f ms (min %.1f, max %.1f) -> %.1f images/s",
                 r.batch, r.threads, r.medianMilliseconds, r.minimumMilliseconds, r.maximumMilliseconds, r.imagesPerSecond))
}
SWIFT
echo "building Omni (release) in $bench ..." >&2
(cd "$bench" && swift build -c release 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | tail -3 >&2)

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); threads $threads, $runs runs per batch, $rounds rounds"
for round in $(seq "$rounds"); do
    echo "-- round $round"
    OMNI_NUM_THREADS="$threads" OMNI_ASSETS="$assets" "$bench/.build/release/bench-mobilenet" "$runs" | tee -a "$out"
    "$python" "$root/scripts/mobilenet_v2_reference.py" --bench "$weights" --threads "$threads" --runs "$runs" | tee -a "$out"
    "$python" "$root/scripts/mobilenet_v2_reference.py" --bench "$weights" --threads "$threads" --runs "$runs" --channels-last | tee -a "$out"
done
echo "-- best median over rounds, images/s (higher is better)"
python3 - "$out" <<'PY'
import re, sys
best = {}
for line in open(sys.argv[1]):
    m = re.match(r"(omni|pytorch \S+ \((\w+)\)).* batch (\d+) .*-> ([\d.]+) images/s", line)
    if m:
        who = "omni" if m.group(1) == "omni" else "pytorch " + m.group(2)
        key = (who, int(m.group(3)))
        best[key] = max(best.get(key, 0.0), float(m.group(4)))
for batch in (1, 8):
    o = best.get(("omni", batch), 0.0)
    parts = [f"omni {o:.1f}"]
    for layout in ("nchw", "channels_last"):
        t = best.get((f"pytorch {layout}", batch), 0.0)
        parts.append(f"pytorch {layout} {t:.1f} (omni x{o / t:.2f})" if t else f"pytorch {layout} -")
    print(f"batch {batch}: " + ", ".join(parts))
PY
