#!/usr/bin/env bash
# Sentence-embedding throughput on all-MiniLM-L6-v2: Omni's SentenceEmbedder (release build) against
# PyTorch 2.13 + sentence-transformers running the same model folder on the same 64 sentences
# (SentenceEmbedder.benchmarkSentences), batch 32, 2 threads, tokenizing included on both sides.
# Rounds alternate between the two so that a busy machine slows both alike; each round reports the
# median of 7 timed runs after 2 warm-up runs, and the script prints the median over rounds.
#
#   OMNI_ASSETS=/tmp/omni-assets scripts/bench-minilm.sh [rounds]
#
# Environment: PYTHON (default /work/venv-torch/bin/python, needs torch and sentence-transformers),
# OMNI_BENCH_THREADS (2), OMNI_BENCH_BATCH (32). Needs scripts/fetch-assets to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
python="${PYTHON:-/work/venv-torch/bin/python}"
export OMNI_ASSETS="${OMNI_ASSETS:-$HOME/.cache/omni}"
export OMNI_BENCH_THREADS="${OMNI_BENCH_THREADS:-2}" OMNI_BENCH_BATCH="${OMNI_BENCH_BATCH:-32}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
swift build -c release --product omni >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for round in $(seq 1 "$rounds"); do
    .build/release/omni bench embed --threads "$OMNI_BENCH_THREADS" --batch-size "$OMNI_BENCH_BATCH" --runs 7 \
        --sentences-out "$tmp/sentences.json" --log-level error > "$tmp/omni-$round.log"
    python3 - "$tmp/omni-$round.log" "$tmp/sentences.json" "$tmp/omni-$round.json" <<'PY'
import json, statistics, sys
result = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sentences = json.load(open(sys.argv[2]))
rates = sorted(len(sentences) / s for s in result["seconds"])
json.dump({"median": statistics.median(rates), "rates": rates, "result": result, "sentences": sentences}, open(sys.argv[3], "w"))
PY
    "$python" - "$tmp/omni-$round.json" "$tmp/torch-$round.json" <<'PY'
import json, os, statistics, sys, time
import torch
from sentence_transformers import SentenceTransformer

threads, batch = int(os.environ["OMNI_BENCH_THREADS"]), int(os.environ["OMNI_BENCH_BATCH"])
torch.set_num_threads(threads)
sentences = json.load(open(sys.argv[1]))["sentences"]
model = SentenceTransformer(os.path.join(os.environ["OMNI_ASSETS"], "minilm"), device="cpu")
def run():
    model.encode(sentences, batch_size=batch, normalize_embeddings=True, show_progress_bar=False)
for _ in range(2):
    run()
seconds = []
for _ in range(7):
    start = time.perf_counter()
    run()
    seconds.append(time.perf_counter() - start)
rates = sorted(len(sentences) / s for s in seconds)
json.dump({"median": statistics.median(rates), "rates": rates}, open(sys.argv[2], "w"))
PY
done

"$python" - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
omni = [json.load(open(f"{tmp}/omni-{r}.json"))["median"] for r in range(1, rounds + 1)]
torch = [json.load(open(f"{tmp}/torch-{r}.json"))["median"] for r in range(1, rounds + 1)]
first = json.load(open(f"{tmp}/omni-1.json"))["result"]
setting = f"{len(json.load(open(f'{tmp}/omni-1.json'))['sentences'])} sentences, batch {first['batchSize']}, {first['threads']} threads"
fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
print(f"all-MiniLM-L6-v2, {setting}, median over {rounds} rounds (per-round medians in brackets)")
print(f"omni:    {statistics.median(omni):8.1f} sentences/s  [{fmt(omni)}]")
print(f"pytorch: {statistics.median(torch):8.1f} sentences/s  [{fmt(torch)}]")
print(f"omni / pytorch: {statistics.median(omni) / statistics.median(torch):.2f}x "
      f"(per round: {', '.join(f'{o / t:.2f}' for o, t in zip(omni, torch))})")
PY
