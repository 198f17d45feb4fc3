#!/usr/bin/env python3
"""Why the `tiny` preset's ViT has a convolutional stem (docs/model.md): a PyTorch trial on the demo
scenes. Trains a 4-block ViT (D 128, 64 px, 8 px patches) for STEPS steps of batch 64 to predict
all four caption attributes (count, size, colour, shape) from the training scenes, and reports the
accuracy on the 100 held-out retrieval scenes — once with the plain 8×8 patchifying convolution,
once with three 3×3 stride-2 convolutions (32, 64, 128 channels, LayerNorm over channels, GELU)
and a 1×1 projection.

Run: /work/venv-torch/bin/python scripts/trials/vit_stem_trial.py omni-demo/corpus [STEPS]
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

torch.set_num_threads(2)
ROOT = sys.argv[1].rstrip("/") + "/"
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 500
D = 128
COUNTS, SIZES = ["one", "two", "three", "four"], ["small", "large"]
COLOURS = ["red", "green", "blue", "yellow", "purple", "white"]
SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]


def labels(caption):
    w = caption.split()
    shape = w[3] if w[3] in SHAPES else {"crosses": "cross"}.get(w[3], w[3][:-1])
    return [COUNTS.index(w[0]), SIZES.index(w[1]), COLOURS.index(w[2]), SHAPES.index(shape)]


def load(manifest, task):
    xs, ys = [], []
    for line in open(ROOT + manifest):
        d = json.loads(line)
        if d.get("task") == task:
            xs.append(np.asarray(Image.open(ROOT + d["image"]).convert("RGB"), dtype=np.float32) / 255)
            ys.append(labels(d["target"]))
    x = (torch.tensor(np.stack(xs)).permute(0, 3, 1, 2) - 0.5) / 0.25
    return x, torch.tensor(ys)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.attn = nn.MultiheadAttention(D, 4, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))

    def forward(self, x):
        h = self.n1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.n2(x))


class StemStage(nn.Module):
    def __init__(self, c, o):
        super().__init__()
        self.conv, self.norm = nn.Conv2d(c, o, 3, 2, 1), nn.LayerNorm(o)

    def forward(self, x):
        return F.gelu(self.norm(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2))


class ViT(nn.Module):
    def __init__(self, stem):
        super().__init__()
        self.embed = (nn.Sequential(StemStage(3, 32), StemStage(32, 64), StemStage(64, 128), nn.Conv2d(128, D, 1))
                      if stem else nn.Conv2d(3, D, 8, 8))
        self.cls = nn.Parameter(torch.zeros(1, 1, D))
        self.pos = nn.Parameter(torch.randn(1, 65, D) * 0.02)
        self.blocks = nn.Sequential(*[Block() for _ in range(4)])
        self.norm, self.head = nn.LayerNorm(D), nn.Linear(D, 4 + 2 + 6 + 6)

    def forward(self, x):
        t = self.embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(len(t), -1, -1), t], 1) + self.pos
        return self.head(self.norm(self.blocks(t))[:, 0])


def split(o):
    return o[:, :4], o[:, 4:6], o[:, 6:12], o[:, 12:]


def trial(stem, train, test):
    torch.manual_seed(0)
    model = ViT(stem)
    opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=STEPS, pct_start=0.06)
    g = torch.Generator().manual_seed(0)
    (x, y), start = train, time.time()
    for _ in range(STEPS):
        i = torch.randint(0, len(x), (64,), generator=g)
        loss = sum(F.cross_entropy(o, y[i, k]) for k, o in enumerate(split(model(x[i]))))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        out = split(model(test[0]))
    right = torch.stack([o.argmax(1) for o in out], 1) == test[1]
    per = right.float().mean(0).tolist()
    print(f"{'conv stem' if stem else 'patchify '}  count {per[0]:.2f}  size {per[1]:.2f}  colour {per[2]:.2f}  "
          f"shape {per[3]:.2f}  all four {right.all(1).float().mean():.2f}  ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    train, test = load("train.jsonl", "image_captioning"), load("test.jsonl", "cross_modal_retrieval")
    for stem in (False, True):
        trial(stem, train, test)
