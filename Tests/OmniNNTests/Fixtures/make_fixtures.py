#!/usr/bin/env python3
"""Regenerates the OmniNN weights-I/O test fixtures in this folder.

Run with a Python that has torch 2.13 (CPU), numpy and safetensors, e.g.

    python3 -m venv /work/venv-torch
    /work/venv-torch/bin/pip install 'torch==2.13.0+cpu' numpy safetensors
    OMNI_ASSETS=~/.cache/omni /work/venv-torch/bin/python Tests/OmniNNTests/Fixtures/make_fixtures.py

Every fixture is written by the real library (NumPy, torch.save, safetensors). The values the
Swift tests expect are stored beside them, independently of the format under test:
`expected.json` lists, per fixture file, each tensor's name (in file order), dtype, shape and
values in C order (floats as JSON numbers, exact for float32/float16/bfloat16 values;
"nan"/"inf"/"-inf" as strings). Reference slices of the real models (MobileNetV2 .pth, MiniLM
safetensors, from $OMNI_ASSETS or ~/.cache/omni after scripts/fetch-assets) are plain .npy
files (version 1.0, little-endian, C order) plus a manifest of every key, shape, dtype and
float64 sums.
"""
import collections
import json
import math
import os
import struct
import zipfile

import numpy as np
import torch
from safetensors.numpy import load_file as st_load_numpy
from safetensors.torch import save_file as st_save_torch

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.environ.get("OMNI_ASSETS", os.path.expanduser("~/.cache/omni"))
expected = {}


def out(name):
    return os.path.join(HERE, name)


def jsonable(x):
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


DTYPE_NAMES = {
    torch.float32: "float32", torch.float64: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16",
    torch.int8: "int8", torch.uint8: "uint8", torch.int32: "int32", torch.int64: "int64", torch.bool: "bool",
}


def describe_torch(name, t):
    """How Omni should load `t`: float64 becomes float32 (rounded to nearest)."""
    t = t.detach()
    if t.dtype == torch.float64:
        values = t.to(torch.float32).double().flatten().tolist()
    elif t.dtype in (torch.float16, torch.bfloat16, torch.float32):
        values = t.double().flatten().tolist()
    elif t.dtype == torch.bool:
        values = [int(v) for v in t.flatten().tolist()]
    else:
        values = t.flatten().tolist()
    return {"name": name, "dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "values": [jsonable(v) for v in values]}


def describe_numpy(name, a):
    kind = {"f4": "float32", "f8": "float32", "f2": "float16", "i1": "int8", "u1": "uint8", "i4": "int32",
            "i8": "int64", "b1": "bool"}[a.dtype.str[1:]]
    if a.dtype.kind == "f":
        values = a.astype(np.float32).astype(np.float64).flatten(order="C").tolist()
    else:
        values = a.astype(np.int64).flatten(order="C").tolist()
    return {"name": name, "dtype": kind, "shape": list(a.shape), "values": [jsonable(v) for v in values]}


# ---------------------------------------------------------------- NumPy .npy / .npz
rng = np.random.default_rng(1234)
special = np.array([0.0, -0.0, 1.5, -2.25, 1e-40, 3.4e38, np.inf, -np.inf, np.nan], dtype=np.float32)
npy_arrays = {
    "npy_f4": np.concatenate([special, rng.standard_normal(3).astype(np.float32)]).reshape(3, 4),
    "npy_f8": rng.standard_normal((2, 3)),
    "npy_f2": rng.standard_normal(5).astype(np.float16),
    "npy_i1": np.array([-128, -1, 0, 1, 127], dtype=np.int8),
    "npy_u1": np.array([[0, 1], [128, 255]], dtype=np.uint8),
    "npy_i4": np.array([-2**31, -7, 0, 2**31 - 1], dtype=np.int32),
    "npy_i8": np.array([-2**63, -1, 0, 2**53 + 1, 2**63 - 1], dtype=np.int64).reshape(5, 1),
    "npy_b1": np.array([True, False, True], dtype=np.bool_),
    "npy_scalar": np.array(3.5, dtype=np.float32),
    "npy_empty": np.zeros((0, 3), dtype=np.float32),
}
for name, a in npy_arrays.items():
    np.save(out(name + ".npy"), a)
    expected[name + ".npy"] = [describe_numpy(name, a)]

fortran = np.asfortranarray(rng.standard_normal((3, 4, 2)).astype(np.float32))
assert fortran.flags.f_contiguous and not fortran.flags.c_contiguous
np.save(out("npy_fortran.npy"), fortran)
expected["npy_fortran.npy"] = [describe_numpy("npy_fortran", fortran)]

big_endian = rng.standard_normal((2, 2)).astype(">f4")
np.save(out("npy_big_endian.npy"), big_endian)
expected["npy_big_endian.npy"] = [describe_numpy("npy_big_endian", big_endian.astype("<f4"))]

for version in [(2, 0), (3, 0)]:
    a = rng.standard_normal((2, 2)).astype(np.float32)
    name = f"npy_v{version[0]}"
    with open(out(name + ".npy"), "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    expected[name + ".npy"] = [describe_numpy(name, a)]

npz_members = collections.OrderedDict([
    ("weight", rng.standard_normal((3, 2)).astype(np.float32)),
    ("bias", np.array([1.0, -1.0], dtype=np.float64)),
    ("steps", np.array([7], dtype=np.int64)),
    ("mask", np.array([[True, False]], dtype=np.bool_)),
])
np.savez(out("npz_stored.npz"), **npz_members)
np.savez_compressed(out("npz_deflated.npz"), **npz_members)
for name in ["npz_stored.npz", "npz_deflated.npz"]:
    expected[name] = [describe_numpy(k, v) for k, v in npz_members.items()]
with zipfile.ZipFile(out("npz_deflated.npz")) as z:
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
with zipfile.ZipFile(out("npz_stored.npz")) as z:
    assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())

# ---------------------------------------------------------------- PyTorch checkpoints
torch.manual_seed(0)
base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
shared = torch.randn(5, 4)
state = collections.OrderedDict()
state["conv.weight"] = torch.randn(4, 3, 2, 2)
state["half"] = torch.randn(5).half()
state["bf16"] = torch.randn(2, 3).bfloat16()
state["long"] = torch.tensor([-(2**62), -1, 0, 2**40 + 3], dtype=torch.int64)
state["int"] = torch.tensor([[1, -2], [3, -4]], dtype=torch.int32)
state["char"] = torch.tensor([-128, 5, 127], dtype=torch.int8)
state["byte"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
state["mask"] = torch.tensor([True, False, False, True])
state["scalar_steps"] = torch.tensor(1234, dtype=torch.int64)
state["double"] = torch.tensor([0.1, -2.5, 1e-3], dtype=torch.float64)
state["transposed"] = base.t()                 # non-contiguous: strides (1, 6)
state["offset_rows"] = base[1:3]               # storage offset 6
state["strided"] = base[:, ::2]                # strides (6, 2)
state["expanded"] = torch.randn(3, 1).expand(3, 4)  # stride 0
state["shared_a"] = shared                     # shares storage with shared_b
state["shared_b"] = shared[2:4, 1:3]
state["empty"] = torch.zeros(0, 3)
state["param"] = torch.nn.Parameter(torch.randn(2, 2))
assert not state["transposed"].is_contiguous() and state["offset_rows"].storage_offset() == 6
assert state["shared_b"].untyped_storage().data_ptr() == state["shared_a"].untyped_storage().data_ptr()

torch.save(state, out("torch_zip.pth"))
torch.save(state, out("torch_legacy.pth"), _use_new_zipfile_serialization=False)
for name in ["torch_zip.pth", "torch_legacy.pth"]:
    loaded = torch.load(out(name), weights_only=True)
    assert list(loaded.keys()) == list(state.keys())
    expected[name] = [describe_torch(k, v) for k, v in state.items()]
# Protocol 4 pickles use FRAME, SHORT_BINUNICODE, MEMOIZE and STACK_GLOBAL instead.
torch.save(state, out("torch_zip_protocol4.pth"), pickle_protocol=4)
with zipfile.ZipFile(out("torch_zip_protocol4.pth")) as z:
    assert z.read("torch_zip_protocol4/data.pkl")[:2] == b"\x80\x04"
expected["torch_zip_protocol4.pth"] = expected["torch_zip.pth"]
with open(out("torch_legacy.pth"), "rb") as f:
    assert f.read(2) == b"\x80\x02" and not zipfile.is_zipfile(out("torch_legacy.pth"))

# The same zip checkpoint with every member deflated, as a generic zip tool would rewrite it;
# torch.load still reads it, so it stays a faithful checkpoint.
with zipfile.ZipFile(out("torch_zip.pth")) as src, zipfile.ZipFile(out("torch_zip_deflated.pth"), "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, src.read(info.filename))
reloaded = torch.load(out("torch_zip_deflated.pth"), weights_only=True)
assert all(torch.equal(reloaded[k], state[k]) for k in state)
expected["torch_zip_deflated.pth"] = expected["torch_zip.pth"]

# A real module's state dict (with its _metadata attribute) nested in a training checkpoint.
model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Flatten(), torch.nn.Linear(3, 2))
with torch.no_grad():
    model[1].running_mean.copy_(torch.randn(3))
sd = model.state_dict()
checkpoint = {"epoch": 3, "state_dict": sd, "lr": 0.01, "history": [torch.tensor([1.0, 2.0]), "note"]}
for name, zip_format in [("torch_nested.pth", True), ("torch_nested_legacy.pth", False)]:
    torch.save(checkpoint, out(name), _use_new_zipfile_serialization=zip_format)
    expected[name] = ([describe_torch("state_dict." + k, v) for k, v in sd.items()]
                      + [describe_torch("history.0", checkpoint["history"][0])])
expected["torch_nested.pth#state_dict"] = [describe_torch(k, v) for k, v in sd.items()]


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


torch.save({"w": torch.ones(2), "payload": Evil()}, out("torch_evil_global.pth"))

# ---------------------------------------------------------------- safetensors
st_tensors = collections.OrderedDict([
    ("a.f32", torch.randn(2, 3)),
    ("b.f16", torch.randn(4).half()),
    ("c.bf16", torch.randn(3).bfloat16()),
    ("d.i8", torch.tensor([-3, 4], dtype=torch.int8)),
    ("e.u8", torch.tensor([250], dtype=torch.uint8)),
    ("f.i32", torch.tensor([[7], [-8]], dtype=torch.int32)),
    ("g.i64", torch.tensor([2**50, -5], dtype=torch.int64)),
    ("h.bool", torch.tensor([False, True, True])),
    ("i.f64", torch.tensor([1.25, -1e-8], dtype=torch.float64)),
    ("j.empty", torch.zeros(2, 0)),
    ("k.scalar", torch.tensor(2.5)),
])
st_save_torch(st_tensors, out("st_all.safetensors"), metadata={"format": "pt", "source": "make_fixtures.py"})
with open(out("st_all.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header_order = [k for k in json.loads(f.read(n)) if k != "__metadata__"]
expected["st_all.safetensors"] = [describe_torch(k, st_tensors[k]) for k in header_order]

# ---------------------------------------------------------------- real models (reference slices)
mobilenet = os.path.join(ASSETS, "mobilenet_v2", "mobilenet_v2-b0353104.pth")
minilm = os.path.join(ASSETS, "minilm", "model.safetensors")
if not (os.path.exists(mobilenet) and os.path.exists(minilm)):
    raise SystemExit(f"missing real model assets under {ASSETS}: run scripts/fetch-assets first")


def manifest(tensors):
    rows = []
    for k, v in tensors:
        a = np.asarray(v, dtype=np.float64)
        rows.append({"name": k, "dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                     "sum": float(a.sum()), "abs_sum": float(np.abs(a).sum())})
    return rows


mb = torch.load(mobilenet, weights_only=True)
mb_np = [(k, v.numpy()) for k, v in mb.items()]
with open(out("mobilenet_v2_manifest.json"), "w") as f:
    json.dump(manifest(mb_np), f, indent=0)
np.save(out("mobilenet_v2_features.0.0.weight.npy"), mb["features.0.0.weight"].numpy())
np.save(out("mobilenet_v2_classifier.1.weight_rows0-2.npy"), mb["classifier.1.weight"][:2].numpy())
np.save(out("mobilenet_v2_classifier.1.bias.npy"), mb["classifier.1.bias"].numpy())
np.save(out("mobilenet_v2_features.18.1.running_var.npy"), mb["features.18.1.running_var"].numpy())

ml = st_load_numpy(minilm)
with open(minilm, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    ml_order = [k for k in json.loads(f.read(n)) if k != "__metadata__"]
with open(out("minilm_manifest.json"), "w") as f:
    json.dump(manifest([(k, ml[k]) for k in ml_order]), f, indent=0)
np.save(out("minilm_embeddings.word_embeddings.weight_rows100-103.npy"), ml["embeddings.word_embeddings.weight"][100:103])
np.save(out("minilm_encoder.layer.0.attention.self.query.weight_rows0-2.npy"), ml["encoder.layer.0.attention.self.query.weight"][:2])
np.save(out("minilm_embeddings.LayerNorm.weight.npy"), ml["embeddings.LayerNorm.weight"])
np.save(out("minilm_embeddings.position_ids.npy"), ml["embeddings.position_ids"])

with open(out("expected.json"), "w") as f:
    json.dump(expected, f, indent=0, allow_nan=False)
print("fixtures written to", HERE)
