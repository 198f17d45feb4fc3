#!/usr/bin/env bash
# Times one GPT training step (forward, cross-entropy, backward, global-norm clipping, AdamW) in
# Omni and in PyTorch on the same model, one thread count after the other, so that each Omni
# number has a PyTorch number measured next to it (DESIGN.md §6).
#
# Model (DESIGN.md §6): vocab 8192, width 256, 4 layers, 4 heads, learned positions, pre-LN,
# GELU MLP ×4, separate q/k/v/out projections with biases, untied head; batch 8, sequence 256.
# PyTorch runs it twice: with the attention written out (matmul, masked softmax, matmul — what
# Omni computes) and with F.scaled_dot_product_attention (PyTorch's fused kernel, what nanoGPT uses).
#
# Usage: scripts/bench-train-gpt.sh [THREADS...]      (default: 1 2)
# Environment: STEPS (timed steps, default 5), PYTHON (default /work/venv-torch/bin/python),
#              SKIP_OMNI=1 or SKIP_TORCH=1 to run one side only.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/work/venv-torch/bin/python}
STEPS=${STEPS:-5}
THREADS=("$@")
[ ${#THREADS[@]} -eq 0 ] && THREADS=(1 2)

torch_step() {   # $1 = threads, $2 = attention (manual | sdpa)
    OMP_NUM_THREADS="$1" "$PYTHON" - "$1" "$2" "$STEPS" <<'PY'
import math, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads, attention, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
V, C, D, L, H, B, T = 8192, 256, 256, 4, 4, 8, 256

class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.register_buffer("causal", torch.tril(torch.ones(C, C, dtype=torch.bool)))
    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = (p(x).view(b, t, H, D // H).transpose(1, 2) for p in (self.q, self.k, self.v))
        if attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q * (1 / math.sqrt(D // H))) @ k.transpose(-2, -1)
            s = s.masked_fill(~self.causal[:t, :t], float("-inf"))
            y = s.softmax(-1) @ v
        return self.o(y.transpose(1, 2).reshape(b, t, D))

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(D), Attention(), nn.LayerNorm(D)
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))
    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))

class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(C, D)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f, self.lm_head = nn.LayerNorm(D), nn.Linear(D, V, bias=False)
    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))

model = GPT()
decay = [p for p in model.parameters() if p.dim() >= 2]
rest = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=3e-4)
times = []
for step in range(1 + steps):
    ids = torch.randint(0, V, (B, T + 1))
    start = time.perf_counter()
    logits = model(ids[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    elapsed = (time.perf_counter() - start) * 1e3
    if step > 0:
        times.append(elapsed)
print(f"torch {torch.__version__} ({attention}) threads {threads}: median {statistics.median(times):.1f} ms "
      f"[{min(times):.1f}–{max(times):.1f}] over {steps} steps, {B * T / statistics.median(times) * 1e3:.0f} tokens/s, "
      f"loss {loss.item():.3f}")
PY
}

if [ "${SKIP_OMNI:-0}" != 1 ]; then
    swift build -c release --product omni >/dev/null
fi
for t in "${THREADS[@]}"; do
    if [ "${SKIP_TORCH:-0}" != 1 ]; then
        torch_step "$t" manual
        torch_step "$t" sdpa
    fi
    if [ "${SKIP_OMNI:-0}" != 1 ]; then
        .build/release/omni bench train-gpt --batch 8 --seq 256 --threads "$t" --steps "$STEPS" --log-level error | head -1
    fi
done
