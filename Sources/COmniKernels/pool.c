// 2-D pooling over dense [planes, H, W] (planes = N*C), PyTorch semantics (floor mode).
// Every kernel runs plane by plane in parallel; a plane is owned by one task, so the scatter-adds
// of the backward passes accumulate in a fixed order and results are bit-reproducible.
#include "internal.h"

// `aux` is the argmax plane of max pooling (written forward, read backward), unused otherwise.
typedef void (*plane_fn)(const omni_pool2d_shape *s, int mode, const void *in, void *aux, void *out, int64_t q);

struct pool_ctx {
    const omni_pool2d_shape *s;
    int mode;
    const void *in;
    void *aux, *out;
    plane_fn fn;
};

static void pool_task(void *p, int tid, int nt) {
    struct pool_ctx *c = (struct pool_ctx *)p;
    int64_t lo, hi;
    omni_split(c->s->planes, tid, nt, &lo, &hi);
    for (int64_t q = lo; q < hi; q++) c->fn(c->s, c->mode, c->in, c->aux, c->out, q);
}

static void run_planes(const omni_pool2d_shape *s, int64_t work_per_plane, plane_fn fn, int mode,
                       const void *in, void *aux, void *out) {
    if (s->planes <= 0) return;
    struct pool_ctx c = { s, mode, in, aux, out, fn };
    int chunks = omni_chunks(s->planes * work_per_plane);
    if (chunks > s->planes) chunks = (int)s->planes;
    omni_parallel(chunks, pool_task, &c);
}

/// First in-range (non-negative) tap of a window starting at `start` with taps `step` apart.
static inline int64_t first_tap(int64_t start, int64_t step) {
    if (start >= 0) return start;
    return start + ((-start + step - 1) / step) * step;
}

// ---- max pooling ------------------------------------------------------------------------------
OMNI_CLONES static void max_plane(const omni_pool2d_shape *s, int mode, const void *in, void *aux,
                                  void *out, int64_t q) {
    (void)mode;
    const int64_t H = s->h, W = s->w, OH = s->oh, OW = s->ow;
    const float *x = (const float *)in + q * H * W;
    float *y = (float *)out + q * OH * OW;
    int64_t *idx = (int64_t *)aux + q * OH * OW;
    for (int64_t i = 0; i < OH; i++) {
        int64_t h0 = i * s->stride_h - s->pad_h;
        int64_t hend = h0 + (s->kh - 1) * s->dil_h + 1;
        if (hend > H) hend = H;
        int64_t hs = first_tap(h0, s->dil_h);
        for (int64_t j = 0; j < OW; j++) {
            int64_t w0 = j * s->stride_w - s->pad_w;
            int64_t wend = w0 + (s->kw - 1) * s->dil_w + 1;
            if (wend > W) wend = W;
            int64_t ws = first_tap(w0, s->dil_w);
            // As PyTorch: start at -inf with the first in-range tap; a NaN always takes over.
            float best = -INFINITY;
            int64_t at = (hs < hend && ws < wend) ? hs * W + ws : -1;
            for (int64_t hh = hs; hh < hend; hh += s->dil_h)
                for (int64_t ww = ws; ww < wend; ww += s->dil_w) {
                    float v = x[hh * W + ww];
                    if (v > best || v != v) { best = v; at = hh * W + ww; }
                }
            y[i * OW + j] = best;
            idx[i * OW + j] = at;
        }
    }
}

void omni_max_pool2d_f32(const omni_pool2d_shape *s, const float *x, float *y, int64_t *indices) {
    run_planes(s, s->oh * s->ow * s->kh * s->kw, max_plane, 0, x, indices, y);
}

static void max_back_plane(const omni_pool2d_shape *s, int mode, const void *in, void *aux,
                           void *out, int64_t q) {
    (void)mode;
    const int64_t HW = s->h * s->w, OHW = s->oh * s->ow;
    const float *dy = (const float *)in + q * OHW;
    const int64_t *idx = (const int64_t *)aux + q * OHW;
    float *dx = (float *)out + q * HW;
    memset(dx, 0, sizeof(float) * (size_t)HW);
    for (int64_t k = 0; k < OHW; k++)
        if (idx[k] >= 0) dx[idx[k]] += dy[k];
}

void omni_max_pool2d_backward_f32(const omni_pool2d_shape *s, const float *dy, const int64_t *indices, float *dx) {
    run_planes(s, s->oh * s->ow + s->h * s->w, max_back_plane, 0, dy, (void *)indices, dx);
}

// ---- average pooling --------------------------------------------------------------------------
/// The clipped window of output (i, j) and its divisor, as PyTorch's avg_pool2d computes them.
static inline float avg_window(const omni_pool2d_shape *s, int count_include_pad, int64_t i, int64_t j,
                               int64_t *hs, int64_t *he, int64_t *ws, int64_t *we) {
    int64_t h0 = i * s->stride_h - s->pad_h, w0 = j * s->stride_w - s->pad_w;
    int64_t h1 = h0 + s->kh, w1 = w0 + s->kw;
    if (h1 > s->h + s->pad_h) h1 = s->h + s->pad_h;
    if (w1 > s->w + s->pad_w) w1 = s->w + s->pad_w;
    int64_t padded = (h1 - h0) * (w1 - w0);
    if (h0 < 0) h0 = 0;
    if (w0 < 0) w0 = 0;
    if (h1 > s->h) h1 = s->h;
    if (w1 > s->w) w1 = s->w;
    *hs = h0; *he = h1; *ws = w0; *we = w1;
    int64_t inside = (h1 - h0) * (w1 - w0);
    if (h0 >= h1 || w0 >= w1) return 0;  // window entirely in the padding: output 0
    return (float)(count_include_pad ? padded : inside);
}

OMNI_CLONES static void avg_plane(const omni_pool2d_shape *s, int count_include_pad, const void *in,
                                  void *aux, void *out, int64_t q) {
    (void)aux;
    const int64_t H = s->h, W = s->w, OH = s->oh, OW = s->ow;
    const float *x = (const float *)in + q * H * W;
    float *y = (float *)out + q * OH * OW;
    for (int64_t i = 0; i < OH; i++)
        for (int64_t j = 0; j < OW; j++) {
            int64_t hs, he, ws, we;
            float div = avg_window(s, count_include_pad, i, j, &hs, &he, &ws, &we);
            float acc = 0;
            for (int64_t hh = hs; hh < he; hh++)
                for (int64_t ww = ws; ww < we; ww++) acc += x[hh * W + ww];
            y[i * OW + j] = div > 0 ? acc / div : 0;
        }
}

void omni_avg_pool2d_f32(const omni_pool2d_shape *s, int count_include_pad, const float *x, float *y) {
    run_planes(s, s->oh * s->ow * s->kh * s->kw, avg_plane, count_include_pad, x, NULL, y);
}

OMNI_CLONES static void avg_back_plane(const omni_pool2d_shape *s, int count_include_pad, const void *in,
                                       void *aux, void *out, int64_t q) {
    (void)aux;
    const int64_t H = s->h, W = s->w, OH = s->oh, OW = s->ow;
    const float *dy = (const float *)in + q * OH * OW;
    float *dx = (float *)out + q * H * W;
    memset(dx, 0, sizeof(float) * (size_t)(H * W));
    for (int64_t i = 0; i < OH; i++)
        for (int64_t j = 0; j < OW; j++) {
            int64_t hs, he, ws, we;
            float div = avg_window(s, count_include_pad, i, j, &hs, &he, &ws, &we);
            if (div <= 0) continue;
            float g = dy[i * OW + j] / div;
            for (int64_t hh = hs; hh < he; hh++)
                for (int64_t ww = ws; ww < we; ww++) dx[hh * W + ww] += g;
        }
}

void omni_avg_pool2d_backward_f32(const omni_pool2d_shape *s, int count_include_pad, const float *dy, float *dx) {
    run_planes(s, s->oh * s->ow * s->kh * s->kw + s->h * s->w, avg_back_plane, count_include_pad, dy, NULL, dx);
}

// ---- adaptive average pooling -----------------------------------------------------------------
// Output cell i covers input rows [floor(i·H/OH), ceil((i+1)·H/OH)).
static inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
static inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }

OMNI_CLONES static void adaptive_plane(const omni_pool2d_shape *s, int mode, const void *in, void *aux,
                                       void *out, int64_t q) {
    (void)mode; (void)aux;
    const int64_t H = s->h, W = s->w, OH = s->oh, OW = s->ow;
    const float *x = (const float *)in + q * H * W;
    float *y = (float *)out + q * OH * OW;
    for (int64_t i = 0; i < OH; i++) {
        int64_t hs = adaptive_start(i, H, OH), he = adaptive_end(i, H, OH);
        for (int64_t j = 0; j < OW; j++) {
            int64_t ws = adaptive_start(j, W, OW), we = adaptive_end(j, W, OW);
            float acc = 0;
            for (int64_t hh = hs; hh < he; hh++)
                for (int64_t ww = ws; ww < we; ww++) acc += x[hh * W + ww];
            y[i * OW + j] = acc / (float)((he - hs) * (we - ws));
        }
    }
}

void omni_adaptive_avg_pool2d_f32(const omni_pool2d_shape *s, const float *x, float *y) {
    run_planes(s, s->h * s->w + s->oh * s->ow, adaptive_plane, 0, x, NULL, y);
}

OMNI_CLONES static void adaptive_back_plane(const omni_pool2d_shape *s, int mode, const void *in, void *aux,
                                            void *out, int64_t q) {
    (void)mode; (void)aux;
    const int64_t H = s->h, W = s->w, OH = s->oh, OW = s->ow;
    const float *dy = (const float *)in + q * OH * OW;
    float *dx = (float *)out + q * H * W;
    memset(dx, 0, sizeof(float) * (size_t)(H * W));
    for (int64_t i = 0; i < OH; i++) {
        int64_t hs = adaptive_start(i, H, OH), he = adaptive_end(i, H, OH);
        for (int64_t j = 0; j < OW; j++) {
            int64_t ws = adaptive_start(j, W, OW), we = adaptive_end(j, W, OW);
            float g = dy[i * OW + j] / (float)((he - hs) * (we - ws));
            for (int64_t hh = hs; hh < he; hh++)
                for (int64_t ww = ws; ww < we; ww++) dx[hh * W + ww] += g;
        }
    }
}

void omni_adaptive_avg_pool2d_backward_f32(const omni_pool2d_shape *s, const float *dy, float *dx) {
    run_planes(s, s->h * s->w + s->oh * s->ow, adaptive_back_plane, 0, dy, NULL, dx);
}
