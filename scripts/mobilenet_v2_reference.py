"""torchvision's MobileNetV2 in plain PyTorch, for references and benchmarks.

torchvision's CPU wheel is not on the local wheel index (PyPI's torchvision is a CUDA build that
does not load with torch 2.13+cpu), so this mirrors `torchvision.models.mobilenet_v2` module for
module: same Sequential indices, hence the same state-dict keys, and it reproduces the logits in
Tests/OmniModelsTests/Fixtures/mobilenet_v2/*_logits.npy (made with torchvision 0.28) bit for bit.

    python scripts/mobilenet_v2_reference.py --check WEIGHTS FIXTURES_DIR
    python scripts/mobilenet_v2_reference.py --features WEIGHTS INPUT.npy OUT.npy
    python scripts/mobilenet_v2_reference.py --bench WEIGHTS --threads 2 --batches 1 8 [--channels-last]
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn


def make_divisible(v, divisor=8):
    rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * v else rounded


def conv_norm_activation(inp, out, kernel=3, stride=1, groups=1):
    # torchvision's Conv2dNormActivation: indices 0 (conv), 1 (BatchNorm2d), 2 (ReLU6)
    return nn.Sequential(nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, out, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == out
        layers = [] if expand_ratio == 1 else [conv_norm_activation(inp, hidden, kernel=1)]
        layers += [conv_norm_activation(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]

    def __init__(self, width_mult=1.0, num_classes=1000, dropout=0.2):
        super().__init__()
        channels = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        features = [conv_norm_activation(3, channels, stride=2)]
        for t, c, n, s in self.SETTING:
            out = make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
                channels = out
        features.append(conv_norm_activation(channels, last, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(last, num_classes))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


def pretrained(weights):
    model = MobileNetV2()
    model.load_state_dict(torch.load(weights, map_location="cpu"))  # strict
    return model.eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--check", nargs=2, metavar=("WEIGHTS", "FIXTURES"))
    p.add_argument("--features", nargs=3, metavar=("WEIGHTS", "INPUT", "OUT"))
    p.add_argument("--bench", metavar="WEIGHTS")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--channels-last", action="store_true",
                   help="run in torch.channels_last memory format (PyTorch's fast CPU path for convnets)")
    a = p.parse_args()
    if a.check:
        model = pretrained(a.check[0])
        for name in ["chelsea", "coffee"]:
            x = torch.from_numpy(np.load(f"{a.check[1]}/{name}_input.npy"))
            with torch.no_grad():
                y = model(x)[0].numpy()
            ref = np.load(f"{a.check[1]}/{name}_logits.npy")
            print(name, "max |logit - fixture| =", float(np.abs(y - ref).max()))
    if a.features:
        model = pretrained(a.features[0])
        with torch.no_grad():
            f = model.features(torch.from_numpy(np.load(a.features[1])))
        np.save(a.features[2], f.numpy().astype(np.float32))
    if a.bench:
        torch.set_num_threads(a.threads)
        model = pretrained(a.bench)
        layout = "channels_last" if a.channels_last else "nchw"
        if a.channels_last:
            model = model.to(memory_format=torch.channels_last)
        for batch in a.batches:
            x = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(0))
            if a.channels_last:
                x = x.to(memory_format=torch.channels_last)
            with torch.inference_mode():
                for _ in range(2):
                    model(x)
                times = []
                for _ in range(a.runs):
                    t = time.perf_counter()
                    model(x)
                    times.append((time.perf_counter() - t) * 1e3)
            times.sort()
            med = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
            print(f"pytorch {torch.__version__} ({layout}) mobilenet_v2 batch {batch} threads {a.threads}: "
                  f"median {med:.1f} ms (min {times[0]:.1f}, max {times[-1]:.1f}) -> {batch / med * 1e3:.1f} images/s")


if __name__ == "__main__":
    main()
