// Image kernels for OmniData: Pillow-compatible resampling, premultiplied alpha, colour
// adjustments and HWC -> CHW float conversion.
//
// The resampler re-implements the algorithm of Pillow's libImaging/Resample.c (PIL 10+): a
// separable convolution whose filter support is widened by the downscale factor (antialiasing),
// coefficients normalised per output pixel and, for 8-bit images, turned into 22-bit fixed point
// with an 8-bit (clipped) intermediate between the horizontal and the vertical pass. Matching the
// reference bit for bit needs the same floating-point evaluation order, so contraction into FMA is
// switched off for this file (the target's -ffp-contract=fast would otherwise change coefficients).
#include "internal.h"
#include <stdlib.h>

#pragma clang fp contract(off)

#define RS_PRECISION_BITS (32 - 8 - 2)

static double filter_box(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
static double filter_bilinear(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}
static double filter_bicubic(double x) {
    const double a = -0.5;  // Pillow's (and Keys') choice; OpenCV uses -0.75
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/// Per output pixel: first input index, tap count, and `ksize` normalised weights.
typedef struct { int64_t ksize; int64_t *bounds; double *kk; } rs_coeffs;

static void rs_free(rs_coeffs *c) { free(c->bounds); free(c->kk); c->bounds = NULL; c->kk = NULL; }

static int rs_precompute(int64_t in_size, float in0, float in1, int64_t out_size, int filter, rs_coeffs *c) {
    double (*fn)(double);
    double fsupport;
    switch (filter) {
    case OMNI_RESAMPLE_BOX: fn = filter_box; fsupport = 0.5; break;
    case OMNI_RESAMPLE_BILINEAR: fn = filter_bilinear; fsupport = 1.0; break;
    case OMNI_RESAMPLE_BICUBIC: fn = filter_bicubic; fsupport = 2.0; break;
    default: return -1;
    }
    double scale = (double)(in1 - in0) / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;  // widen the filter only when shrinking
    double support = fsupport * filterscale;
    int64_t ksize = (int64_t)ceil(support) * 2 + 1;
    c->ksize = ksize;
    c->kk = malloc((size_t)(out_size * ksize) * sizeof(double));
    c->bounds = malloc((size_t)out_size * 2 * sizeof(int64_t));
    if (!c->kk || !c->bounds) { rs_free(c); return -1; }
    for (int64_t xx = 0; xx < out_size; xx++) {
        double center = in0 + (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int64_t xmin = (int64_t)(int)(center - support + 0.5);  // C truncation, as the reference
        if (xmin < 0) xmin = 0;
        int64_t xmax = (int64_t)(int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = &c->kk[xx * ksize];
        int64_t x = 0;
        for (; x < xmax; x++) {
            double w = fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++) if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        c->bounds[xx * 2] = xmin;
        c->bounds[xx * 2 + 1] = xmax;
    }
    return 0;
}

/// Weights in 22-bit fixed point, rounded half away from zero (the reference's conversion).
static int32_t *rs_fixed(const rs_coeffs *c, int64_t out_size) {
    int64_t n = out_size * c->ksize;
    int32_t *kk = malloc((size_t)n * sizeof(int32_t));
    if (!kk) return NULL;
    for (int64_t i = 0; i < n; i++) {
        double v = c->kk[i] * (1 << RS_PRECISION_BITS);
        kk[i] = c->kk[i] < 0 ? (int32_t)(-0.5 + v) : (int32_t)(0.5 + v);
    }
    return kk;
}

static inline uint8_t rs_clip8(int32_t v) {
    v >>= RS_PRECISION_BITS;  // arithmetic shift, as the reference's lookup table index
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

// ---- 8-bit passes ------------------------------------------------------------------------------

struct rs8_ctx {
    const uint8_t *src; uint8_t *dst; int64_t in_w, out_w, rows, c, row_offset;
    const int64_t *bounds; const int32_t *k; int64_t ksize;
};

OMNI_CLONES static void rs8_horizontal_rows(const struct rs8_ctx *t, int64_t lo, int64_t hi) {
    const int64_t c = t->c;
    for (int64_t yy = lo; yy < hi; yy++) {
        const uint8_t *row = t->src + (yy + t->row_offset) * t->in_w * c;
        uint8_t *out = t->dst + yy * t->out_w * c;
        for (int64_t xx = 0; xx < t->out_w; xx++) {
            int64_t xmin = t->bounds[xx * 2], xmax = t->bounds[xx * 2 + 1];
            const int32_t *k = &t->k[xx * t->ksize];
            int32_t ss[4] = { 1 << (RS_PRECISION_BITS - 1), 1 << (RS_PRECISION_BITS - 1),
                              1 << (RS_PRECISION_BITS - 1), 1 << (RS_PRECISION_BITS - 1) };
            const uint8_t *p = row + xmin * c;
            for (int64_t x = 0; x < xmax; x++)
                for (int64_t ch = 0; ch < c; ch++) ss[ch] += (int32_t)p[x * c + ch] * k[x];
            for (int64_t ch = 0; ch < c; ch++) out[xx * c + ch] = rs_clip8(ss[ch]);
        }
    }
}

OMNI_CLONES static void rs8_vertical_rows(const struct rs8_ctx *t, int64_t lo, int64_t hi) {
    const int64_t n = t->out_w * t->c;  // row length in bytes (same width in and out)
    int32_t *acc = malloc((size_t)n * sizeof(int32_t));
    if (!acc) return;  // the caller allocated far more than this; not reachable in practice
    for (int64_t yy = lo; yy < hi; yy++) {
        int64_t ymin = t->bounds[yy * 2], ymax = t->bounds[yy * 2 + 1];
        const int32_t *k = &t->k[yy * t->ksize];
        for (int64_t i = 0; i < n; i++) acc[i] = 1 << (RS_PRECISION_BITS - 1);
        for (int64_t y = 0; y < ymax; y++) {
            const uint8_t *row = t->src + (ymin + y) * n;
            const int32_t w = k[y];
            for (int64_t i = 0; i < n; i++) acc[i] += (int32_t)row[i] * w;
        }
        uint8_t *out = t->dst + yy * n;
        for (int64_t i = 0; i < n; i++) out[i] = rs_clip8(acc[i]);
    }
    free(acc);
}

static void rs8_h_task(void *p, int tid, int nt) {
    const struct rs8_ctx *t = p; int64_t lo, hi;
    omni_split(t->rows, tid, nt, &lo, &hi);
    rs8_horizontal_rows(t, lo, hi);
}
static void rs8_v_task(void *p, int tid, int nt) {
    const struct rs8_ctx *t = p; int64_t lo, hi;
    omni_split(t->rows, tid, nt, &lo, &hi);
    rs8_vertical_rows(t, lo, hi);
}

// ---- 16-bit passes (double accumulation, rounded half away from zero, clamped) -------------------

struct rs16_ctx {
    const uint16_t *src; uint16_t *dst; int64_t in_w, out_w, rows, c, row_offset;
    const int64_t *bounds; const double *k; int64_t ksize;
};

static inline uint16_t rs_clip16(double ss) {
    int64_t v = (int64_t)(ss >= 0.0 ? ss + 0.5 : ss - 0.5);
    return v < 0 ? 0 : v > 65535 ? 65535 : (uint16_t)v;
}

static void rs16_horizontal_rows(const struct rs16_ctx *t, int64_t lo, int64_t hi) {
    const int64_t c = t->c;
    for (int64_t yy = lo; yy < hi; yy++) {
        const uint16_t *row = t->src + (yy + t->row_offset) * t->in_w * c;
        uint16_t *out = t->dst + yy * t->out_w * c;
        for (int64_t xx = 0; xx < t->out_w; xx++) {
            int64_t xmin = t->bounds[xx * 2], xmax = t->bounds[xx * 2 + 1];
            const double *k = &t->k[xx * t->ksize];
            double ss[4] = { 0, 0, 0, 0 };
            const uint16_t *p = row + xmin * c;
            for (int64_t x = 0; x < xmax; x++)
                for (int64_t ch = 0; ch < c; ch++) ss[ch] += p[x * c + ch] * k[x];
            for (int64_t ch = 0; ch < c; ch++) out[xx * c + ch] = rs_clip16(ss[ch]);
        }
    }
}

static void rs16_vertical_rows(const struct rs16_ctx *t, int64_t lo, int64_t hi) {
    const int64_t n = t->out_w * t->c;
    for (int64_t yy = lo; yy < hi; yy++) {
        int64_t ymin = t->bounds[yy * 2], ymax = t->bounds[yy * 2 + 1];
        const double *k = &t->k[yy * t->ksize];
        uint16_t *out = t->dst + yy * n;
        for (int64_t i = 0; i < n; i++) {
            double ss = 0.0;
            for (int64_t y = 0; y < ymax; y++) ss += t->src[(ymin + y) * n + i] * k[y];
            out[i] = rs_clip16(ss);
        }
    }
}

static void rs16_h_task(void *p, int tid, int nt) {
    const struct rs16_ctx *t = p; int64_t lo, hi;
    omni_split(t->rows, tid, nt, &lo, &hi);
    rs16_horizontal_rows(t, lo, hi);
}
static void rs16_v_task(void *p, int tid, int nt) {
    const struct rs16_ctx *t = p; int64_t lo, hi;
    omni_split(t->rows, tid, nt, &lo, &hi);
    rs16_vertical_rows(t, lo, hi);
}

int omni_image_resample(int depth, const void *src, int64_t w, int64_t h, int64_t c,
                        void *dst, int64_t ow, int64_t oh, int filter) {
    if ((depth != 8 && depth != 16) || c < 1 || c > 4 || w < 1 || h < 1 || ow < 1 || oh < 1) return -1;
    const int64_t esize = depth / 8;
    int need_h = ow != w, need_v = oh != h;
    if (!need_h && !need_v) { memcpy(dst, src, (size_t)(w * h * c * esize)); return 0; }

    rs_coeffs cv = { 0, NULL, NULL }, ch = { 0, NULL, NULL };
    if (rs_precompute(h, 0.0f, (float)h, oh, filter, &cv) != 0) return -1;
    // Only the rows the vertical pass reads are resampled horizontally.
    int64_t first = cv.bounds[0];
    int64_t last = cv.bounds[oh * 2 - 2] + cv.bounds[oh * 2 - 1];
    if (!need_v) { first = 0; last = h; }
    int status = -1;
    void *tmp = NULL;
    int32_t *kh = NULL, *kv = NULL;
    const void *vin = src;
    int64_t vin_w = w;

    if (need_h) {
        if (rs_precompute(w, 0.0f, (float)w, ow, filter, &ch) != 0) goto done;
        int64_t rows = last - first;
        void *hout = need_v ? (tmp = malloc((size_t)(ow * rows * c * esize))) : dst;
        if (!hout) goto done;
        if (depth == 8) {
            if (!(kh = rs_fixed(&ch, ow))) goto done;
            struct rs8_ctx t = { src, hout, w, ow, rows, c, first, ch.bounds, kh, ch.ksize };
            omni_parallel(omni_chunks(ow * rows * c * ch.ksize), rs8_h_task, &t);
        } else {
            struct rs16_ctx t = { src, hout, w, ow, rows, c, first, ch.bounds, ch.kk, ch.ksize };
            omni_parallel(omni_chunks(ow * rows * c * ch.ksize), rs16_h_task, &t);
        }
        vin = hout;
        vin_w = ow;
        for (int64_t i = 0; i < oh; i++) cv.bounds[i * 2] -= first;
    }
    if (need_v) {
        if (depth == 8) {
            if (!(kv = rs_fixed(&cv, oh))) goto done;
            struct rs8_ctx t = { vin, dst, vin_w, vin_w, oh, c, 0, cv.bounds, kv, cv.ksize };
            omni_parallel(omni_chunks(vin_w * oh * c * cv.ksize), rs8_v_task, &t);
        } else {
            struct rs16_ctx t = { vin, dst, vin_w, vin_w, oh, c, 0, cv.bounds, cv.kk, cv.ksize };
            omni_parallel(omni_chunks(vin_w * oh * c * cv.ksize), rs16_v_task, &t);
        }
    }
    status = 0;
done:
    free(tmp); free(kh); free(kv);
    rs_free(&ch); rs_free(&cv);
    return status;
}

// ---- premultiplied alpha (the last channel is alpha) ----------------------------------------------

static inline uint32_t muldiv255(uint32_t a, uint32_t b) {
    uint32_t t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

void omni_image_premultiply(int depth, int unpremultiply, int64_t pixels, int64_t c, void *data) {
    if (c < 2) return;
    if (depth == 8) {
        uint8_t *p = data;
        for (int64_t i = 0; i < pixels; i++, p += c) {
            uint32_t a = p[c - 1];
            for (int64_t k = 0; k < c - 1; k++) {
                if (unpremultiply) {
                    if (a != 255 && a != 0) {
                        uint32_t v = (255u * p[k]) / a;
                        p[k] = (uint8_t)(v > 255 ? 255 : v);
                    }
                } else {
                    p[k] = (uint8_t)muldiv255(p[k], a);
                }
            }
        }
    } else {
        uint16_t *p = data;
        for (int64_t i = 0; i < pixels; i++, p += c) {
            uint64_t a = p[c - 1];
            for (int64_t k = 0; k < c - 1; k++) {
                if (unpremultiply) {
                    if (a != 65535 && a != 0) {
                        uint64_t v = (65535u * (uint64_t)p[k] + a / 2) / a;
                        p[k] = (uint16_t)(v > 65535 ? 65535 : v);
                    }
                } else {
                    p[k] = (uint16_t)(((uint64_t)p[k] * a + 32767) / 65535);
                }
            }
        }
    }
}

// ---- colour -----------------------------------------------------------------------------------

void omni_image_blend_u8(const uint8_t *a, const uint8_t *b, float alpha, int64_t n, uint8_t *out) {
    if (alpha >= 0 && alpha <= 1.0) {
        for (int64_t i = 0; i < n; i++)
            out[i] = (uint8_t)((int)a[i] + alpha * ((int)b[i] - (int)a[i]));
    } else {
        for (int64_t i = 0; i < n; i++) {
            float t = (float)((int)a[i] + alpha * ((int)b[i] - (int)a[i]));
            out[i] = t <= 0.0 ? 0 : t >= 255.0 ? 255 : (uint8_t)t;
        }
    }
}

void omni_image_luma_u8(const uint8_t *rgb, int64_t pixels, int64_t c, uint8_t *out) {
    for (int64_t i = 0; i < pixels; i++, rgb += c)
        out[i] = (uint8_t)((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
}

static inline int clip8i(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

// colorsys-style HSV in bytes, with the reference's mix of float and double arithmetic.
static void rgb_to_hsv_u8(const uint8_t *in, uint8_t *out) {
    uint8_t r = in[0], g = in[1], b = in[2];
    uint8_t maxc = r > g ? (r > b ? r : b) : (g > b ? g : b);
    uint8_t minc = r < g ? (r < b ? r : b) : (g < b ? g : b);
    uint8_t uh = 0, us = 0;
    if (minc != maxc) {
        float cr = (float)(maxc - minc);
        float s = cr / (float)maxc;
        float rc = ((float)(maxc - r)) / cr;
        float gc = ((float)(maxc - g)) / cr;
        float bc = ((float)(maxc - b)) / cr;
        float h;
        if (r == maxc) h = bc - gc;
        else if (g == maxc) h = 2.0 + rc - bc;
        else h = 4.0 + gc - rc;
        h = fmod((h / 6.0 + 1.0), 1.0);
        uh = (uint8_t)clip8i((int)(h * 255.0));
        us = (uint8_t)clip8i((int)(s * 255.0));
    }
    out[0] = uh; out[1] = us; out[2] = maxc;
}

static void hsv_to_rgb_u8(const uint8_t *in, uint8_t *out) {
    uint8_t h = in[0], s = in[1], v = in[2];
    if (s == 0) { out[0] = out[1] = out[2] = v; return; }
    int i = (int)floor((float)h * 6.0 / 255.0);
    float f = (float)h * 6.0 / 255.0 - (float)i;
    float fs = ((float)s) / 255.0;
    uint8_t up = (uint8_t)clip8i((int)round((float)v * (1.0 - fs)));
    uint8_t uq = (uint8_t)clip8i((int)round((float)v * (1.0 - fs * f)));
    uint8_t ut = (uint8_t)clip8i((int)round((float)v * (1.0 - fs * (1.0 - f))));
    switch (i % 6) {
    case 0: out[0] = v; out[1] = ut; out[2] = up; break;
    case 1: out[0] = uq; out[1] = v; out[2] = up; break;
    case 2: out[0] = up; out[1] = v; out[2] = ut; break;
    case 3: out[0] = up; out[1] = uq; out[2] = v; break;
    case 4: out[0] = ut; out[1] = up; out[2] = v; break;
    default: out[0] = v; out[1] = up; out[2] = uq; break;
    }
}

void omni_image_shift_hue_u8(uint8_t *rgb, int64_t pixels, int64_t c, uint8_t shift) {
    uint8_t hsv[3];
    for (int64_t i = 0; i < pixels; i++, rgb += c) {
        rgb_to_hsv_u8(rgb, hsv);
        hsv[0] = (uint8_t)(hsv[0] + shift);
        hsv_to_rgb_u8(hsv, rgb);
    }
}

// ---- HWC integers -> CHW float32 in [0, 1] ---------------------------------------------------------

void omni_image_to_chw_f32(int depth, const void *src, int64_t h, int64_t w, int64_t c, float *out) {
    const int64_t hw = h * w;
    if (depth == 8) {
        const uint8_t *p = src;
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < hw; i++) out[ch * hw + i] = (float)p[i * c + ch] / 255.0f;
    } else {
        const uint16_t *p = src;
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < hw; i++) out[ch * hw + i] = (float)p[i * c + ch] / 65535.0f;
    }
}

// ---- separable remapping: crop, pad, flips ------------------------------------------------------

void omni_image_remap(int64_t pixel_bytes, const void *src, int64_t w, void *dst, int64_t ow, int64_t oh,
                      const int64_t *xmap, const int64_t *ymap, const void *fill) {
    const uint8_t *s = src, *f = fill;
    uint8_t *d = dst;
    const int64_t pb = pixel_bytes;
    for (int64_t oy = 0; oy < oh; oy++) {
        uint8_t *out = d + oy * ow * pb;
        const int64_t sy = ymap[oy];
        if (sy < 0) {
            for (int64_t ox = 0; ox < ow; ox++) memcpy(out + ox * pb, f, (size_t)pb);
            continue;
        }
        const uint8_t *row = s + sy * w * pb;
        int64_t ox = 0;
        while (ox < ow) {
            const int64_t sx = xmap[ox];
            if (sx < 0) { memcpy(out + ox * pb, f, (size_t)pb); ox++; continue; }
            int64_t run = 1;  // consecutive source pixels copy as one block
            while (ox + run < ow && xmap[ox + run] == sx + run) run++;
            if (run > 1) {
                memcpy(out + ox * pb, row + sx * pb, (size_t)(run * pb));
            } else {
                switch (pb) {  // constant sizes let the compiler inline the copy
                case 1: out[ox] = row[sx]; break;
                case 3: memcpy(out + ox * 3, row + sx * 3, 3); break;
                case 4: memcpy(out + ox * 4, row + sx * 4, 4); break;
                case 6: memcpy(out + ox * 6, row + sx * 6, 6); break;
                case 8: memcpy(out + ox * 8, row + sx * 8, 8); break;
                default: memcpy(out + ox * pb, row + sx * pb, (size_t)pb); break;
                }
            }
            ox += run;
        }
    }
}
