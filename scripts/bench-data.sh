#!/usr/bin/env bash
# Data-layer throughput against the reference implementations, in one script (DESIGN.md §6):
#  - images/s for decode + resize (shorter side 224, antialiased bilinear) + centre crop 224 + to a
#    float CHW array, 2 workers: Omni (`omni bench data`) vs Pillow (thread pool; Pillow releases the
#    GIL while decoding and resizing) on the scikit-image sample photos (PNG and JPEG);
#  - log-mel frames/s: Omni's WhisperMel vs Whisper's own `log_mel_spectrogram` (torch STFT) on the
#    LibriVox clip of ../shared/fixtures/whisper_mel (rebuilt as a WAV from its samples), 2 threads.
#
#   scripts/bench-data.sh [THREADS=2] [ROUNDS=3]
#
# Needs the fetched assets and $PYTHON (default /work/venv-torch/bin/python) with torch, numpy,
# Pillow and openai-whisper (`pip install --no-deps openai-whisper==20250625`; only its audio.py is
# imported).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-2}"; rounds="${2:-3}"
assets="${OMNI_ASSETS:-$HOME/.cache/omni}"
python="${PYTHON:-/work/venv-torch/bin/python}"
(cd "$root" && swift build -c release --product omni 2>&1 | grep -E "error|complete" | tail -1 >&2) || true
omni="$root/.build/release/omni"
images=("$assets"/skimage/{chelsea,coffee,astronaut,camera,horse}.png "$assets"/skimage/{rocket,retina,hubble_deep_field}.jpg)
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$python" - "$root/Tests/OmniDataTests/Fixtures/audio/sense_and_sensibility_01_austen_64kb-0870_samples.npy" "$work/clip.wav" <<'PY'
import sys, wave, numpy as np
x = np.load(sys.argv[1])
with wave.open(sys.argv[2], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes((np.clip(x, -1, 1) * 32767).round().astype("<i2").tobytes())
PY
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); threads $threads, $rounds rounds"
for round in $(seq "$rounds"); do
  echo "-- round $round"
  "$omni" bench data --images "${images[@]}" --audio "$work/clip.wav" --threads "$threads" --runs 7 --copies 4 --log-level error | tail -1 \
    | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("omni:    %.1f images/s (%d-image passes, median %.1f ms); mel %d frames/s" % (r["images_per_s"], r["images"]*4, r["image_pass"]["median_ms"], r["mel_frames_per_s"]))'
  OMP_NUM_THREADS="$threads" "$python" - "$threads" "$assets" "$work/clip.wav" "${images[@]}" <<'PY'
import importlib.util, io, statistics, sys, time, wave
from concurrent.futures import ThreadPoolExecutor
import numpy as np, torch
from PIL import Image
threads, assets, clip, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
torch.set_num_threads(threads)
blobs = [open(f, "rb").read() for f in files] * 4
def one(b, side=224):
    im = Image.open(io.BytesIO(b)).convert("RGB")
    w, h = im.size
    s = side / min(w, h)
    im = im.resize((max(side, round(w * s)), max(side, round(h * s))), Image.BILINEAR)
    w, h = im.size
    l, t = (w - side) // 2, (h - side) // 2
    return np.asarray(im.crop((l, t, l + side, t + side)), dtype=np.float32).transpose(2, 0, 1) / 255
pool = ThreadPoolExecutor(threads)
for _ in range(2): list(pool.map(one, blobs))
times = []
for _ in range(7):
    t0 = time.perf_counter(); list(pool.map(one, blobs)); times.append(time.perf_counter() - t0)
img = len(blobs) / statistics.median(times)
import types
pkg = types.ModuleType("whisper"); pkg.__path__ = importlib.util.find_spec("whisper").submodule_search_locations
sys.modules["whisper"] = pkg   # skip whisper/__init__ (model code, numba): only audio.py is needed
import whisper.audio as audio
with wave.open(clip) as w: x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
t = torch.from_numpy(x)
for _ in range(2): audio.log_mel_spectrogram(t, 80)
mt = []
for _ in range(7):
    t0 = time.perf_counter(); audio.log_mel_spectrogram(t, 80); mt.append(time.perf_counter() - t0)
print("python:  %.1f images/s (Pillow %s, %d-image passes, median %.1f ms); whisper mel %d frames/s" % (img, Image.__version__, len(blobs), statistics.median(times) * 1e3, (len(x) // 160) / statistics.median(mt)))
PY
done
