#!/usr/bin/env bash
# Times the forward pass of ViT-Ti/16 at 224 px (dim 192, depth 12, 3 heads, MLP 768, 1000
# classes, exact GELU, pre-LN, LayerNorm eps 1e-6) in Omni (`omni bench model --config
# vit-tiny-224`) and in PyTorch, alternating in the same script so that each Omni figure has
# PyTorch figures measured next to it (DESIGN.md §6). Inference mode, no gradients, random weights
# and inputs.
#
# Each line reports wall-clock median, min and max per forward pass and the median CPU time of the
# process per pass (all threads), which other work on a shared machine disturbs less.
#
# PyTorch runs the same architecture written two ways and the better one counts:
#   mha   nn.MultiheadAttention blocks (torchvision's ViT; PyTorch's fused "fast path" in inference)
#   sdpa  timm's layout: fused qkv Linear and F.scaled_dot_product_attention
#
# Usage: scripts/bench-vit.sh [ROUNDS]           (default 3 rounds of every batch × threads cell)
#        scripts/bench-vit.sh --summarize LOG...  (the table of earlier runs' output)
#
# The last lines are a Markdown table per (batch, threads): medians over rounds of each side's
# per-round median (min–max in brackets), and Omni / best PyTorch per round, wall and CPU time.
# Environment: BATCHES (default "1 8"), THREADS (default "1 2"), RUNS (timed passes per
#              invocation, default 20), WARMUP (default 3), PYTHON (default /work/venv-torch/bin/python),
#              SKIP_BUILD=1 to use the existing release build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/work/venv-torch/bin/python}
ROUNDS=${1:-3}
BATCHES=${BATCHES:-"1 8"}
THREADS=${THREADS:-"1 2"}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}

torch_vit() {   # $1 = threads, $2 = batch; prints one JSON line per variant
    OMP_NUM_THREADS="$1" "$PYTHON" - "$1" "$2" "$RUNS" "$WARMUP" <<'PY'
import json, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads, batch, runs, warmup = map(int, sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)
D, DEPTH, H, MLP, CLASSES, PATCH, SIZE, EPS = 192, 12, 3, 768, 1000, 16, 224, 1e-6

class MHABlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D, eps=EPS)
        self.self_attention = nn.MultiheadAttention(D, H, batch_first=True)
        self.ln_2 = nn.LayerNorm(D, eps=EPS)
        self.mlp = nn.Sequential(nn.Linear(D, MLP), nn.GELU(), nn.Linear(MLP, D))
    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.self_attention(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))

class SDPABlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(D, eps=EPS)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.norm2 = nn.LayerNorm(D, eps=EPS)
        self.fc1, self.fc2 = nn.Linear(D, MLP), nn.Linear(MLP, D)
    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, t, 3, H, d // H).permute(2, 0, 3, 1, 4)
        x = x + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))

class ViT(nn.Module):
    def __init__(self, block):
        super().__init__()
        grid = SIZE // PATCH
        self.patch = nn.Conv2d(3, D, PATCH, PATCH)
        self.cls = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, 1 + grid * grid, D) * 0.02)
        self.blocks = nn.Sequential(*[block() for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(D, eps=EPS)
        self.head = nn.Linear(D, CLASSES)
    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])

x = torch.randn(batch, 3, SIZE, SIZE)
for name, block in (("mha", MHABlock), ("sdpa", SDPABlock)):
    model = ViT(block).eval()
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        times, cpu = [], []
        for _ in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            model(x)
            times.append((time.perf_counter() - start) * 1e3)
            cpu.append((time.process_time() - start_cpu) * 1e3)
    print(json.dumps({"impl": f"torch-{name}", "torch": torch.__version__, "batch": batch, "threads": threads,
                      "ms_median": round(statistics.median(times), 3), "ms_min": round(min(times), 3),
                      "ms_max": round(max(times), 3), "cpu_ms_median": round(statistics.median(cpu), 3)}))
PY
}

summarize() {   # reads "round N {json}" lines from the files given
    "$PYTHON" - "$@" <<'PY'
import collections, json, statistics, sys
cells = collections.defaultdict(lambda: collections.defaultdict(list))   # (batch, threads) -> impl -> [(wall, cpu)]
rounds = collections.defaultdict(dict)                                   # (file, round, cell) -> impl -> result
for path in sys.argv[1:]:
    for line in open(path):
        if not line.startswith("round "):
            continue
        _, number, text = line.split(" ", 2)
        d = json.loads(text)
        impl, cell = d.get("impl", "omni"), (d["batch"], d["threads"])
        cells[cell][impl].append((d["ms_median"], d["cpu_ms_median"]))
        rounds[(path, number, cell)][impl] = d
ratios = collections.defaultdict(lambda: ([], []))
for (_, _, cell), impls in rounds.items():
    torch = [impls[k] for k in ("torch-mha", "torch-sdpa") if k in impls]
    if "omni" in impls and torch:
        ratios[cell][0].append(impls["omni"]["ms_median"] / min(t["ms_median"] for t in torch))
        ratios[cell][1].append(impls["omni"]["cpu_ms_median"] / min(t["cpu_ms_median"] for t in torch))
def spread(v, digits=1):
    return f"{statistics.median(v):.{digits}f} ({min(v):.{digits}f}–{max(v):.{digits}f})" if v else "–"
print("| batch | threads | Omni ms | PyTorch MHA ms | PyTorch SDPA ms | Omni / best PyTorch (wall) | Omni CPU ms | best PyTorch CPU ms | Omni / best PyTorch (CPU) | rounds |")
print("|---|---|---|---|---|---|---|---|---|---|")
for cell in sorted(cells):
    c = cells[cell]
    wall = {k: [w for w, _ in v] for k, v in c.items()}
    best_cpu = [min(pair) for pair in zip(*[[u for _, u in c[k]] for k in ("torch-mha", "torch-sdpa") if k in c])]
    print(f"| {cell[0]} | {cell[1]} | {spread(wall.get('omni', []))} | {spread(wall.get('torch-mha', []))} | "
          f"{spread(wall.get('torch-sdpa', []))} | {spread(ratios[cell][0], 2)} | {spread([u for _, u in c.get('omni', [])])} | "
          f"{spread(best_cpu)} | {spread(ratios[cell][1], 2)} | {len(ratios[cell][0])} |")
PY
}

if [ "${1:-}" = "--summarize" ]; then
    shift
    summarize "$@"
    exit 0
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release --product omni >/dev/null
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        for b in $BATCHES; do
            torch_vit "$t" "$b" | sed "s/^/round $round /" | tee -a "$log"
            echo "round $round $(.build/release/omni bench model --config vit-tiny-224 --batch "$b" --threads "$t" \
                --runs "$RUNS" --warmup "$WARMUP" --log-level error | tail -1)" | tee -a "$log"
        done
    done
done
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
summarize "$log"
