#!/usr/bin/env python3
"""Makes the image test fixtures in this folder (run from anywhere; needs Pillow and numpy).

    python3 -m venv /tmp/venv-img && /tmp/venv-img/bin/pip install pillow numpy
    OMNI_ASSETS=/tmp/omni-assets scripts/fetch-assets
    OMNI_ASSETS=/tmp/omni-assets /tmp/venv-img/bin/python Tests/OmniDataTests/Fixtures/images/make_fixtures.py

Made with Pillow 13.0.0 (libjpeg-turbo 3.2.0) and numpy 2.4.6. Every reference is what Pillow (or,
for 16-bit PNG layouts Pillow cannot read losslessly, the array the PNG was written from) gives:

- png_*.png + png_*.npy: small PNGs of every layout; the .npy is the expected decode, [H, W, C].
  PNGs Pillow cannot write (16-bit colour, 1/2/4-bit, Adam7) come from the tiny writer below.
- jpeg_encoded_*.npy: Pillow's decode of Pillow's JPEG encode of src_rgb.png / src_gray.png.
- jpeg_*.jpg + .npy: Pillow-made JPEGs (gray, 4:4:4, 4:2:2, 4:2:0, progressive, CMYK) and their
  Pillow decode (CMYK converted with convert("RGB")); jpeg_orientation_N.jpg carry EXIF
  orientation N and the reference is ImageOps.exif_transpose of the decode.
- resize_*.npy: Image.resize of src_rgb.png / src_rgba.png / src_gray.png.
- color_*.npy: torchvision's PIL colour adjustments (ImageEnhance, and adjust_hue's HSV code).
- gray_src_rgb.npy: convert("L").
- skimage.json: for scikit-image sample files (assets), shape and FNV-1a 64 of Pillow's decode
  (JPEG: libjpeg-turbo), plus Pillow's bilinear/bicubic resizes of chelsea.png.
- bad_huge.png / bad_huge.jpg: valid headers claiming 100000x100000 / 65000x65000 pixels.
"""
import io, json, os, struct, zlib
import numpy as np
from PIL import Image, ImageEnhance, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.environ.get("OMNI_ASSETS", os.path.expanduser("~/.cache/omni"))
rng = np.random.default_rng(20260101)


def out(name):
    return os.path.join(HERE, name)


def save_npy(name, arr):
    arr = np.ascontiguousarray(arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    np.save(out(name), arr)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_rows(a, depth):
    raw = b""
    for row in a:
        if depth == 16:
            data = row.astype(">u2").tobytes()
        elif depth == 8:
            data = row.astype("u1").tobytes()
        else:  # pack samples MSB first, pad each row to a byte
            bits = "".join(format(int(v), f"0{depth}b") for v in row.reshape(-1))
            bits += "0" * (-len(bits) % 8)
            data = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
        raw += b"\x00" + data
    return raw


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, samples, depth, color_type, interlace=False, palette=None, trns=None):
    """samples: [H, W, C] raw sample values (palette indices for colour type 3)."""
    h, w = samples.shape[:2]
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += png_rows(sub, depth)
    else:
        raw = png_rows(samples, depth)
    body = chunk(b"IHDR", ihdr)
    if palette is not None:
        body += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        body += chunk(b"tRNS", bytes(np.asarray(trns, dtype=np.uint8)))
    body += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(out(name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + body)


def smooth(h, w, c, peak=255):
    """A smooth random field with some sharp edges (exercises resampling)."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, c))
    for k in range(c):
        fx, fy, ph = rng.uniform(0.05, 0.4, 3)
        img[:, :, k] = 0.5 + 0.35 * np.sin(fx * x + ph * 6) * np.cos(fy * y)
    img[(x // 7 + y // 5) % 3 == 0] *= 0.4
    img += rng.normal(0, 0.03, img.shape)
    return np.clip(np.round(img * peak), 0, peak)


def pil_array(im):
    return np.asarray(im)


# ---- PNG layouts -------------------------------------------------------------------------------
H, W = 11, 13
for mode, c in [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)]:
    a = smooth(H, W, c).astype(np.uint8)
    im = Image.fromarray(a[:, :, 0] if c == 1 else a, mode)
    im.save(out(f"png_{mode.lower()}8.png"))
    back = pil_array(Image.open(out(f"png_{mode.lower()}8.png")))
    assert np.array_equal(back.reshape(a.shape), a)
    save_npy(f"png_{mode.lower()}8.npy", a)
for name, ct, c in [("l16", 0, 1), ("la16", 4, 2), ("rgb16", 2, 3), ("rgba16", 6, 4)]:
    a = smooth(H, W, c, 65535).astype(np.uint16)
    write_png(f"png_{name}.png", a, 16, ct)
    save_npy(f"png_{name}.npy", a)
    if name == "l16":  # Pillow reads 16-bit gray losslessly (mode I;16): cross-check the writer
        assert np.array_equal(pil_array(Image.open(out("png_l16.png"))), a[:, :, 0])
a = smooth(H, W, 4, 65535).astype(np.uint16)
write_png("png_rgba16_interlaced.png", a, 16, 6, interlace=True)
save_npy("png_rgba16_interlaced.npy", a)
a = smooth(H, W, 3).astype(np.uint8)
write_png("png_rgb8_interlaced.png", a, 8, 2, interlace=True)
assert np.array_equal(pil_array(Image.open(out("png_rgb8_interlaced.png"))), a)
save_npy("png_rgb8_interlaced.npy", a)
for depth in (1, 2, 4):
    g = rng.integers(0, 1 << depth, (H, W, 1))
    write_png(f"png_gray{depth}.png", g, depth, 0, interlace=(depth == 2))
    scaled = (g * (255 // ((1 << depth) - 1))).astype(np.uint8)
    assert np.array_equal(np.asarray(Image.open(out(f"png_gray{depth}.png")).convert("L")), scaled[:, :, 0])
    save_npy(f"png_gray{depth}.npy", scaled)
# Palettes: 4-bit indices with and without tRNS, and Pillow's own 8-bit palette file.
pal = rng.integers(0, 256, (16, 3))
idx = rng.integers(0, 16, (H, W, 1))
write_png("png_palette4.png", idx, 4, 3, palette=pal)
ref = pal[idx[:, :, 0]].astype(np.uint8)
assert np.array_equal(np.asarray(Image.open(out("png_palette4.png")).convert("RGB")), ref)
save_npy("png_palette4.npy", ref)
trns = rng.integers(0, 256, 10)  # entries 10...15 stay opaque
write_png("png_palette4_trns.png", idx, 4, 3, interlace=True, palette=pal, trns=trns)
alpha = np.concatenate([trns, np.full(6, 255)])[idx[:, :, 0]]
ref = np.concatenate([pal[idx[:, :, 0]], alpha[:, :, None]], axis=2).astype(np.uint8)
assert np.array_equal(np.asarray(Image.open(out("png_palette4_trns.png")).convert("RGBA")), ref)
save_npy("png_palette4_trns.npy", ref)
src = Image.fromarray(smooth(H, W, 3).astype(np.uint8), "RGB").quantize(colors=37)
src.save(out("png_p8.png"))
save_npy("png_p8.npy", np.asarray(Image.open(out("png_p8.png")).convert("RGB")))

# ---- JPEG ---------------------------------------------------------------------------------------
JH, JW = 19, 23
rgb = Image.fromarray(smooth(JH, JW, 3).astype(np.uint8), "RGB")
cases = {
    "jpeg_gray": (rgb.convert("L"), dict(quality=90)),
    "jpeg_444": (rgb, dict(quality=92, subsampling=0)),
    "jpeg_422": (rgb, dict(quality=85, subsampling=1)),
    "jpeg_420": (rgb, dict(quality=75, subsampling=2)),
    "jpeg_progressive": (rgb, dict(quality=80, progressive=True)),
    "jpeg_cmyk": (rgb.convert("CMYK"), dict(quality=90)),
}
for name, (im, kw) in cases.items():
    im.save(out(name + ".jpg"), **kw)
    dec = Image.open(out(name + ".jpg"))
    if dec.mode == "CMYK":
        dec = dec.convert("RGB")
    save_npy(name + ".npy", np.asarray(dec))
small = Image.fromarray(smooth(5, 7, 3).astype(np.uint8), "RGB")
for n in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = n
    small.save(out(f"jpeg_orientation_{n}.jpg"), quality=95, exif=exif.tobytes())
    save_npy(f"jpeg_orientation_{n}.npy", np.asarray(ImageOps.exif_transpose(Image.open(out(f"jpeg_orientation_{n}.jpg")))))

# ---- resize -----------------------------------------------------------------------------------
RH, RW = 47, 61
sources = {
    "rgb": Image.fromarray(smooth(RH, RW, 3).astype(np.uint8), "RGB"),
    "rgba": Image.fromarray(smooth(RH, RW, 4).astype(np.uint8), "RGBA"),
    "gray": Image.fromarray(smooth(RH, RW, 1)[:, :, 0].astype(np.uint8), "L"),
}
for k, im in sources.items():
    im.save(out(f"src_{k}.png"))
FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC, "box": Image.Resampling.BOX}
sizes = [(30, 23), (17, 40), (100, 70), (61, 20), (7, 5), (200, 47)]
for k, im in sources.items():
    for fname, f in FILTERS.items():
        for w, h in sizes:
            if k != "rgb" and (fname == "box" or (w, h) not in [(30, 23), (100, 70)]):
                continue
            save_npy(f"resize_{k}_{fname}_{w}x{h}.npy", np.asarray(im.resize((w, h), f)))

# Pillow's encoder at the same quality and subsampling gives the same coefficients as TurboJPEG's,
# so decoding either file gives the same pixels.
for q in (50, 90):
    buf = io.BytesIO()
    sources["rgb"].save(buf, "JPEG", quality=q)  # 4:2:0, Pillow's default
    save_npy(f"jpeg_encoded_rgb_q{q}.npy", np.asarray(Image.open(io.BytesIO(buf.getvalue()))))
buf = io.BytesIO()
sources["gray"].save(buf, "JPEG", quality=90)
save_npy("jpeg_encoded_gray_q90.npy", np.asarray(Image.open(io.BytesIO(buf.getvalue()))))

# ---- colour (torchvision's functional_pil) ---------------------------------------------------------
def adjust_hue(img, hue_factor):
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        np_h += np.array(hue_factor * 255).astype(np.uint8)
    return Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert(img.mode)


for k in ["rgb", "rgba"]:
    im = sources[k]
    for f in [0.6, 1.4]:
        save_npy(f"color_{k}_brightness_{f}.npy", np.asarray(ImageEnhance.Brightness(im).enhance(f)))
    for f in [0.5, 1.7]:
        save_npy(f"color_{k}_contrast_{f}.npy", np.asarray(ImageEnhance.Contrast(im).enhance(f)))
    for f in [0.3, 1.8]:
        save_npy(f"color_{k}_saturation_{f}.npy", np.asarray(ImageEnhance.Color(im).enhance(f)))
for f in [-0.3, 0.12]:
    save_npy(f"color_rgb_hue_{f}.npy", np.asarray(adjust_hue(sources["rgb"], f)))
save_npy("color_gray_contrast_0.5.npy", np.asarray(ImageEnhance.Contrast(sources["gray"]).enhance(0.5)))
save_npy("gray_src_rgb.npy", np.asarray(sources["rgb"].convert("L")))

# ---- scikit-image samples (assets) -------------------------------------------------------------------

def fnv1a_np(arr):  # FNV-1a 64 over the C-order bytes
    data = np.ascontiguousarray(arr).view(np.uint8).reshape(-1)
    h = 0xCBF29CE484222325
    for b in data.tolist():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


entries = {}
for f in ["chelsea.png", "coffee.png", "astronaut.png", "camera.png", "horse.png",
          "rocket.jpg", "retina.jpg", "hubble_deep_field.jpg"]:
    im = ImageOps.exif_transpose(Image.open(os.path.join(ASSETS, "skimage", f)))
    a = np.asarray(im)
    a3 = a.reshape(a.shape[0], a.shape[1], -1)
    entries[f] = {"mode": im.mode, "shape": list(a3.shape), "fnv1a64": f"{fnv1a_np(a3):016x}",
                  "row0": a3[0, :16].reshape(-1).tolist(), "rowMid": a3[a3.shape[0] // 2, :16].reshape(-1).tolist()}
chelsea = Image.open(os.path.join(ASSETS, "skimage", "chelsea.png"))
resizes = {}
for fname in ["bilinear", "bicubic"]:
    for w, h in [(385, 256), (224, 149), (640, 426)]:
        a = np.asarray(chelsea.resize((w, h), FILTERS[fname]))
        resizes[f"{fname}_{w}x{h}"] = f"{fnv1a_np(a):016x}"
with open(out("skimage.json"), "w") as fp:
    json.dump({"decode": entries, "chelseaResize": resizes}, fp, indent=1, sort_keys=True)

# ---- bad headers ---------------------------------------------------------------------------------
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
with open(out("bad_huge.png"), "wb") as fp:
    fp.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
             + chunk(b"IEND", b""))
data = bytearray(open(out("jpeg_444.jpg"), "rb").read())
sof = data.index(b"\xff\xc0")
data[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
with open(out("bad_huge.jpg"), "wb") as fp:
    fp.write(bytes(data))
print("fixtures written to", HERE)
