// Fused optimizer updates (one pass over parameter, gradient and state; new buffers out).
#ifndef OMNI_OPTIM_H
#define OMNI_OPTIM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/// Adam / AdamW (PyTorch semantics). decoupled = 1: AdamW (p *= 1 - lr*wd); 0: Adam (g += wd*p).
/// bc1 = 1 - beta1^t, bc2 = 1 - beta2^t.
void omni_adam_f32(int64_t n, const float *p, const float *g, const float *m, const float *v,
                   float lr, float beta1, float beta2, float eps, float wd, float bc1, float bc2, int decoupled,
                   float *p_out, float *m_out, float *v_out);

/// SGD with momentum / dampening / Nesterov / weight decay (PyTorch semantics).
/// first = 1 on the first step (the momentum buffer starts as the gradient); buf may be NULL when
/// momentum == 0, and buf_out is then unused.
void omni_sgd_f32(int64_t n, const float *p, const float *g, const float *buf, float lr, float momentum,
                  float dampening, float wd, int nesterov, int first, float *p_out, float *buf_out);

/// Σ x² in double (for global-norm clipping).
double omni_sum_squares_f32(int64_t n, const float *x);

#ifdef __cplusplus
}
#endif
#endif
