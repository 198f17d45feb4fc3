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
# ($PYTHON, default /work/venv-torch/bin/python). Omni runs as `omni bench classify`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-2}"; rounds="${2:-2}"; runs="${3:-10}"
assets="${OMNI_ASSETS:-$HOME/.cache/omni}"
weights="$assets/mobilenet_v2/mobilenet_v2-b0353104.pth"
python="${PYTHON:-/work/venv-torch/bin/python}"
[ -f "$weights" ] || { echo "missing $weights: run scripts/fetch-assets" >&2; exit 1; }
(cd "$root" && swift build -c release --product omni 2>&1 | grep -E "error|complete" | tail -1 >&2) || true
omni="$root/.build/release/omni"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); threads $threads, $runs runs per batch, $rounds rounds"
for round in $(seq "$rounds"); do
    echo "-- round $round"
    "$omni" bench classify --weights "$weights" --batch 1,8 --runs "$runs" --threads "$threads" --log-level error | tail -1 \
        | python3 -c 'import json, sys
for r in json.loads(sys.stdin.read()):
    print("omni (folded, nhwc) mobilenet_v2 batch %d threads %d: median %.1f ms (min %.1f, max %.1f) -> %.1f images/s" % (
        r["batch"], r["threads"], r["medianMilliseconds"], r["minimumMilliseconds"], r["maximumMilliseconds"], r["imagesPerSecond"]))' | tee -a "$out"
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
