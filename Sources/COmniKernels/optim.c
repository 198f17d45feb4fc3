// Fused optimizer updates. Elementwise and split into thread-count-fixed chunks, so results are
// bit-reproducible for a given thread count (and in fact independent of it).
#include "internal.h"

struct adam_ctx { int64_t n; const float *p, *g, *m, *v; float lr, b1, b2, eps, wd, bc1, bc2; int dec; float *po, *mo, *vo; };

OMNI_CLONES static void adam_range(const struct adam_ctx *c, int64_t lo, int64_t hi) {
    const float step = c->lr / c->bc1, inv_sqrt_bc2 = 1.0f / sqrtf(c->bc2);
    const float decay = c->dec ? 1.0f - c->lr * c->wd : 1.0f, l2 = c->dec ? 0.0f : c->wd;
    for (int64_t i = lo; i < hi; i++) {
        float p = c->p[i];
        float g = c->g[i] + l2 * p;
        float m = c->b1 * c->m[i] + (1.0f - c->b1) * g;
        float v = c->b2 * c->v[i] + (1.0f - c->b2) * g * g;
        float denom = sqrtf(v) * inv_sqrt_bc2 + c->eps;
        c->po[i] = p * decay - step * m / denom;
        c->mo[i] = m;
        c->vo[i] = v;
    }
}

static void adam_task(void *p, int tid, int nt) {
    struct adam_ctx *c = (struct adam_ctx *)p;
    int64_t lo, hi;
    omni_split(c->n, tid, nt, &lo, &hi);
    adam_range(c, lo, hi);
}

void omni_adam_f32(int64_t n, const float *p, const float *g, const float *m, const float *v,
                   float lr, float beta1, float beta2, float eps, float wd, float bc1, float bc2, int decoupled,
                   float *p_out, float *m_out, float *v_out) {
    struct adam_ctx c = { n, p, g, m, v, lr, beta1, beta2, eps, wd, bc1, bc2, decoupled, p_out, m_out, v_out };
    omni_parallel(omni_chunks(n), adam_task, &c);
}

struct sgd_ctx { int64_t n; const float *p, *g, *buf; float lr, mom, damp, wd; int nesterov, first; float *po, *bo; };

OMNI_CLONES static void sgd_range(const struct sgd_ctx *c, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
        float p = c->p[i];
        float g = c->g[i] + c->wd * p;
        if (c->mom != 0.0f) {
            float b = c->first ? g : c->mom * c->buf[i] + (1.0f - c->damp) * g;
            c->bo[i] = b;
            g = c->nesterov ? g + c->mom * b : b;
        }
        c->po[i] = p - c->lr * g;
    }
}

static void sgd_task(void *p, int tid, int nt) {
    struct sgd_ctx *c = (struct sgd_ctx *)p;
    int64_t lo, hi;
    omni_split(c->n, tid, nt, &lo, &hi);
    sgd_range(c, lo, hi);
}

void omni_sgd_f32(int64_t n, const float *p, const float *g, const float *buf, float lr, float momentum,
                  float dampening, float wd, int nesterov, int first, float *p_out, float *buf_out) {
    struct sgd_ctx c = { n, p, g, buf, lr, momentum, dampening, wd, nesterov, first, p_out, buf_out };
    omni_parallel(omni_chunks(n), sgd_task, &c);
}

double omni_sum_squares_f32(int64_t n, const float *x) {
    double acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += (double)x[i + j] * (double)x[i + j];
    double s = 0;
    for (int j = 0; j < 8; j++) s += acc[j];
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}
