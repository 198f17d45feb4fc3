// Reductions, scans, softmax, top-k and fused row normalisation.
// Parallelism is over the kept axes only; each output is reduced in one fixed order.
#include "internal.h"
#include <stdlib.h>

struct red_ctx { int op; int64_t outer, n, inner; const float *x; void *out; };

// Reduce a contiguous row (inner == 1) with 16 partial accumulators (vectorises, fixed order).
OMNI_CLONES static float row_sum(const float *x, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; i < n; i++) s += x[i];
    return s;
}
// 16 lanes, so that the compare-and-select vectorises (one running maximum would not).
OMNI_CLONES static float row_max(const float *x, int64_t n) {
    // 16 running maxima, like row_sum: a single one is a loop-carried dependence that stays scalar.
    float acc[16];
    int nan = 0;
    for (int j = 0; j < 16; j++) acc[j] = -INFINITY;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) { float v = x[i + j]; nan |= (v != v); acc[j] = v > acc[j] ? v : acc[j]; }
    float m = -INFINITY;
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    for (; i < n; i++) { float v = x[i]; nan |= (v != v); m = v > m ? v : m; }
    return nan ? NAN : m;
}
static float row_min(const float *x, int64_t n) {
    float m = INFINITY; int nan = 0;
    for (int64_t i = 0; i < n; i++) { float v = x[i]; nan |= (v != v); m = v < m ? v : m; }
    return nan ? NAN : m;
}

static float reduce_one(int op, const float *x, int64_t n, int64_t st) {
    if (st == 1) {
        switch (op) {
        case OMNI_R_SUM: return row_sum(x, n);
        case OMNI_R_MAX: return row_max(x, n);
        case OMNI_R_MIN: return row_min(x, n);
        default: break;
        }
    }
    switch (op) {
    case OMNI_R_SUM: { double s = 0; for (int64_t i = 0; i < n; i++) s += x[i * st]; return (float)s; }
    case OMNI_R_PROD: { double s = 1; for (int64_t i = 0; i < n; i++) s *= x[i * st]; return (float)s; }
    case OMNI_R_MAX: { float m = -INFINITY; for (int64_t i = 0; i < n; i++) { float v = x[i * st]; if (v != v) return v; if (v > m) m = v; } return m; }
    case OMNI_R_MIN: { float m = INFINITY; for (int64_t i = 0; i < n; i++) { float v = x[i * st]; if (v != v) return v; if (v < m) m = v; } return m; }
    case OMNI_R_LOGSUMEXP: {
        float m = -INFINITY;
        for (int64_t i = 0; i < n; i++) { float v = x[i * st]; if (v != v) return v; if (v > m) m = v; }
        if (m == -INFINITY || m == INFINITY) return m;
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += exp((double)(x[i * st] - m));
        return m + (float)log(s);
    }
    }
    return 0;
}

// For inner > 1, reduce whole [n, inner] slabs accumulating rows into the output (vectorises).
OMNI_CLONES static void slab_sum(const float *x, int64_t n, int64_t inner, float *out) {
    for (int64_t i = 0; i < inner; i++) out[i] = 0;
    for (int64_t r = 0; r < n; r++) {
        const float *row = x + r * inner;
        for (int64_t i = 0; i < inner; i++) out[i] += row[i];
    }
}

static void red_task(void *p, int tid, int nt) {
    struct red_ctx *c = (struct red_ctx *)p;
    float *out = (float *)c->out;
    if (c->inner > 1 && c->op == OMNI_R_SUM) {
        int64_t lo, hi; omni_split(c->outer, tid, nt, &lo, &hi);
        for (int64_t o = lo; o < hi; o++) slab_sum(c->x + o * c->n * c->inner, c->n, c->inner, out + o * c->inner);
        return;
    }
    int64_t total = c->outer * c->inner, lo, hi;
    omni_split(total, tid, nt, &lo, &hi);
    for (int64_t j = lo; j < hi; j++) {
        int64_t o = j / c->inner, i = j % c->inner;
        out[j] = reduce_one(c->op, c->x + o * c->n * c->inner + i, c->n, c->inner);
    }
}

void omni_reduce_f32(int op, int64_t outer, int64_t n, int64_t inner, const float *x, float *out) {
    struct red_ctx c = { op, outer, n, inner, x, out };
    int chunks = omni_chunks(outer * n * inner);
    int64_t units = (inner > 1 && op == OMNI_R_SUM) ? outer : outer * inner;
    if (chunks > units) chunks = (int)(units > 0 ? units : 1);
    omni_parallel(chunks, red_task, &c);
}

static void argred_task(void *p, int tid, int nt) {
    struct red_ctx *c = (struct red_ctx *)p;
    int64_t *out = (int64_t *)c->out;
    int64_t total = c->outer * c->inner, lo, hi;
    omni_split(total, tid, nt, &lo, &hi);
    for (int64_t j = lo; j < hi; j++) {
        int64_t o = j / c->inner, i = j % c->inner;
        const float *x = c->x + o * c->n * c->inner + i;
        int64_t best = 0; float bv = x[0];
        if (bv == bv) {
            for (int64_t r = 1; r < c->n; r++) {
                float v = x[r * c->inner];
                if (v != v) { best = r; break; }
                if (c->op ? (v < bv) : (v > bv)) { bv = v; best = r; }
            }
        }
        out[j] = best;
    }
}

void omni_argreduce_f32(int is_min, int64_t outer, int64_t n, int64_t inner, const float *x, int64_t *out) {
    struct red_ctx c = { is_min, outer, n, inner, x, out };
    int chunks = omni_chunks(outer * n * inner);
    if (chunks > outer * inner) chunks = (int)(outer * inner > 0 ? outer * inner : 1);
    omni_parallel(chunks, argred_task, &c);
}

void omni_cumsum_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *out) {
    for (int64_t o = 0; o < outer; o++) {
        const float *xs = x + o * n * inner;
        float *ys = out + o * n * inner;
        for (int64_t i = 0; i < inner; i++) ys[i] = xs[i];
        for (int64_t r = 1; r < n; r++)
            for (int64_t i = 0; i < inner; i++) ys[r * inner + i] = ys[(r - 1) * inner + i] + xs[r * inner + i];
    }
}

// ---- softmax --------------------------------------------------------------------------------
OMNI_CLONES static void softmax_row(int lg, const float *x, int64_t n, float *y) {
    float m = row_max(x, n);
    if (m == -INFINITY) m = 0;  // a fully masked row gives exp(-inf) = 0 terms, then NaN as in PyTorch
    // exp first, then the vectorised fixed-order sum: a running `acc += e` keeps the exp loop scalar.
    for (int64_t i = 0; i < n; i++) y[i] = omni_expf(x[i] - m);
    float acc = row_sum(y, n);
    if (lg) {
        // (x - m) - log Σ, not x - (m + log Σ): for large |m| the sum m + log Σ would be rounded
        // to the ulp of m (6e-5 at 1000) before the subtraction
        float l = logf(acc);
        for (int64_t k = 0; k < n; k++) y[k] = (x[k] - m) - l;
    } else {
        float inv = 1.0f / acc;
        for (int64_t k = 0; k < n; k++) y[k] *= inv;
    }
}

struct sm_ctx { int lg; int64_t outer, n, inner; const float *x; float *y; };
static void sm_task(void *p, int tid, int nt) {
    struct sm_ctx *c = (struct sm_ctx *)p;
    int64_t lo, hi;
    omni_split(c->outer * c->inner, tid, nt, &lo, &hi);
    if (c->inner == 1) {
        for (int64_t o = lo; o < hi; o++) softmax_row(c->lg, c->x + o * c->n, c->n, c->y + o * c->n);
        return;
    }
    for (int64_t j = lo; j < hi; j++) {
        int64_t o = j / c->inner, i = j % c->inner, st = c->inner;
        const float *x = c->x + o * c->n * st + i;
        float *y = c->y + o * c->n * st + i;
        float m = -INFINITY;
        for (int64_t r = 0; r < c->n; r++) m = x[r * st] > m ? x[r * st] : m;
        if (m == -INFINITY) m = 0;
        double s = 0;
        for (int64_t r = 0; r < c->n; r++) s += exp((double)(x[r * st] - m));
        if (c->lg) { float l = (float)log(s); for (int64_t r = 0; r < c->n; r++) y[r * st] = (x[r * st] - m) - l; }
        else { for (int64_t r = 0; r < c->n; r++) y[r * st] = (float)(exp((double)(x[r * st] - m)) / s); }
    }
}

void omni_softmax_f32(int log_, int64_t outer, int64_t n, int64_t inner, const float *x, float *out) {
    struct sm_ctx c = { log_, outer, n, inner, x, out };
    int chunks = omni_chunks(outer * n * inner);
    if (chunks > outer * inner) chunks = (int)(outer * inner > 0 ? outer * inner : 1);
    omni_parallel(chunks, sm_task, &c);
}

// ---- cross-entropy over rows of classes ------------------------------------------------------
struct ce_ctx { int64_t rows, n; const float *x; const int64_t *t; float eps; float *loss, *stats; const float *g; float *dx; };

OMNI_CLONES static void ce_row(int64_t n, const float *x, int64_t t, float eps, float *loss, float *stats) {
    float m = row_max(x, n);
    if (m == -INFINITY) m = 0;  // every logit -inf: the sum is 0 and the log-sum-exp -inf
    float part[16] = {0}, xs[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) { float v = x[i + j]; part[j] += omni_expf(v - m); xs[j] += v; }
    float s = 0, sx = 0;
    for (int j = 0; j < 16; j++) { s += part[j]; sx += xs[j]; }
    for (; i < n; i++) { s += omni_expf(x[i] - m); sx += x[i]; }
    float ls = logf(s);
    stats[0] = m; stats[1] = ls;
    // log-sum-exp minus a logit as (m - x) + log Σ: m + log Σ alone would round to the ulp of m
    float nll = (m - x[t]) + ls;
    *loss = eps == 0 ? nll : (1 - eps) * nll + eps * ((m - sx / (float)n) + ls);
}

OMNI_CLONES static void ce_row_backward(int64_t n, const float *x, int64_t t, float eps, const float *stats, float g,
                                         float *dx) {
    float m = stats[0], ls = stats[1], u = eps / (float)n;
    for (int64_t c = 0; c < n; c++) dx[c] = g * (omni_expf((x[c] - m) - ls) - u);
    dx[t] -= g * (1 - eps);
}

static void ce_task(void *p, int tid, int nt) {
    struct ce_ctx *c = (struct ce_ctx *)p;
    int64_t lo, hi;
    omni_split(c->rows, tid, nt, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const float *x = c->x + r * c->n;
        int64_t t = c->t[r];
        if (c->dx) {
            if (t < 0) memset(c->dx + r * c->n, 0, sizeof(float) * (size_t)c->n);
            else ce_row_backward(c->n, x, t, c->eps, c->stats + 2 * r, c->g[r], c->dx + r * c->n);
        } else if (t < 0) {
            c->loss[r] = 0; c->stats[2 * r] = 0; c->stats[2 * r + 1] = 0;
        } else {
            ce_row(c->n, x, t, c->eps, c->loss + r, c->stats + 2 * r);
        }
    }
}

static void ce_run(struct ce_ctx *c) {
    int chunks = omni_chunks(c->rows * c->n);
    if (chunks > c->rows) chunks = (int)(c->rows > 0 ? c->rows : 1);
    omni_parallel(chunks, ce_task, c);
}

void omni_cross_entropy_f32(int64_t rows, int64_t n, const float *x, const int64_t *target, float smoothing,
                            float *loss, float *stats) {
    struct ce_ctx c = { rows, n, x, target, smoothing, loss, stats, NULL, NULL };
    ce_run(&c);
}

void omni_cross_entropy_backward_f32(int64_t rows, int64_t n, const float *x, const int64_t *target, float smoothing,
                                     const float *stats, const float *g, float *dx) {
    struct ce_ctx c = { rows, n, x, target, smoothing, NULL, (float *)stats, g, dx };
    ce_run(&c);
}

// ---- top-k ----------------------------------------------------------------------------------
struct topk_item { float v; int64_t i; };
static int before(int largest, struct topk_item a, struct topk_item b) {
    // NaN counts as the largest value, as in PyTorch; ties keep the lower index first.
    int an = a.v != a.v, bn = b.v != b.v;
    if (an || bn) { if (an && bn) return a.i < b.i; return largest ? an : bn; }
    if (a.v != b.v) return largest ? a.v > b.v : a.v < b.v;
    return a.i < b.i;
}

void omni_topk_rows_f32(int largest, int64_t rows, int64_t n, int64_t k, const float *x,
                        float *values, int64_t *indices) {
    struct topk_item *heap = (struct topk_item *)malloc(sizeof(struct topk_item) * (size_t)(k > 0 ? k : 1));
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * n;
        int64_t cnt = 0;
        // insertion into a sorted buffer of size k (k is small in practice)
        for (int64_t i = 0; i < n; i++) {
            struct topk_item it = { row[i], i };
            if (cnt == k && !before(largest, it, heap[k - 1])) continue;
            int64_t pos = cnt < k ? cnt++ : k - 1;
            while (pos > 0 && before(largest, it, heap[pos - 1])) { heap[pos] = heap[pos - 1]; pos--; }
            heap[pos] = it;
        }
        for (int64_t j = 0; j < k; j++) { values[r * k + j] = heap[j].v; indices[r * k + j] = heap[j].i; }
    }
    free(heap);
}

// ---- layer / RMS norm -----------------------------------------------------------------------
struct norm_ctx { int rms; int64_t rows, n; const float *x, *g, *b; float eps; float *y, *mean, *rstd; };

OMNI_CLONES static void norm_row(int rms, int64_t n, const float *x, const float *g, const float *b,
                                 float eps, float *y, float *mean_out, float *rstd_out) {
    float mu = 0;
    if (!rms) mu = row_sum(x, n) / (float)n;
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) { float d = x[i + j] - mu; acc[j] += d * d; }
    float ss = 0;
    for (int j = 0; j < 16; j++) ss += acc[j];
    for (; i < n; i++) { float d = x[i] - mu; ss += d * d; }
    float rstd = 1.0f / sqrtf(ss / (float)n + eps);
    if (g && b && !rms) for (int64_t k = 0; k < n; k++) y[k] = (x[k] - mu) * rstd * g[k] + b[k];
    else if (g) for (int64_t k = 0; k < n; k++) y[k] = (x[k] - mu) * rstd * g[k];
    else if (b && !rms) for (int64_t k = 0; k < n; k++) y[k] = (x[k] - mu) * rstd + b[k];
    else for (int64_t k = 0; k < n; k++) y[k] = (x[k] - mu) * rstd;
    if (mean_out) *mean_out = mu;
    if (rstd_out) *rstd_out = rstd;
}

static void norm_task(void *p, int tid, int nt) {
    struct norm_ctx *c = (struct norm_ctx *)p;
    int64_t lo, hi;
    omni_split(c->rows, tid, nt, &lo, &hi);
    for (int64_t r = lo; r < hi; r++)
        norm_row(c->rms, c->n, c->x + r * c->n, c->g, c->b, c->eps, c->y + r * c->n,
                 c->mean ? c->mean + r : NULL, c->rstd ? c->rstd + r : NULL);
}

void omni_norm_rows_f32(int rms, int64_t rows, int64_t n, const float *x, const float *gamma,
                        const float *beta, float eps, float *y, float *mean, float *rstd) {
    struct norm_ctx c = { rms, rows, n, x, gamma, beta, eps, y, mean, rstd };
    int chunks = omni_chunks(rows * n);
    if (chunks > rows) chunks = (int)(rows > 0 ? rows : 1);
    omni_parallel(chunks, norm_task, &c);
}
