// Internal helpers shared by the kernel files.
#ifndef COMNI_INTERNAL_H
#define COMNI_INTERNAL_H
#include "COmniKernels.h"
#include <math.h>
#include <string.h>

#define OMNI_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define OMNI_PAR_MIN 32768  /* below this many elements, run on the calling thread */

/// A run of `len` consecutive output elements; in_offs/in_inner give each input's element offset
/// and its stride along the run.
typedef void (*omni_run_fn)(void *ctx, int64_t out_off, int64_t len,
                            const int64_t *in_offs, const int64_t *in_inner);
/// Visits the linear output range [start, end) of `shape` in runs along the last axis.
void omni_nd_for(int ndim, const int64_t *shape, int nin, const int64_t *const *strides,
                 int64_t start, int64_t end, omni_run_fn fn, void *ctx);
/// Splits [0, total) over the pool in a fixed number of chunks and calls omni_nd_for on each.
void omni_nd_parallel(int ndim, const int64_t *shape, int nin, const int64_t *const *strides,
                      omni_run_fn fn, void *ctx);

/// Splits [0, n) into `parts` near-equal ranges.
static inline void omni_split(int64_t n, int part, int parts, int64_t *lo, int64_t *hi) {
    int64_t q = n / parts, r = n % parts;
    *lo = part * q + (part < r ? part : r);
    *hi = *lo + q + (part < r ? 1 : 0);
}
static inline int omni_chunks(int64_t work) {
    int t = omni_get_num_threads();
    if (work < OMNI_PAR_MIN || t <= 1) return 1;
    int64_t c = work / (OMNI_PAR_MIN / 2);
    return c < t ? (int)c : t;
}

// Branch-free float math that vectorises (Cephes-style polynomials, ~1-2 ulp for exp).
static inline float omni_expf(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -104.0f ? -104.0f : x;  // below about -103.97 the result rounds to 0, so exp(-inf) is exactly 0
    float fx = x * 1.44269504088896341f;
    fx = __builtin_floorf(fx + 0.5f);
    float r = x - fx * 0.693359375f;
    r = r + fx * 2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    // 2^n in two steps so that n down to -149 (subnormal results) stays representable.
    int n = (int)fx;
    int n1 = n / 2, n2 = n - n1;
    union { int i; float f; } p1 = { (n1 + 127) << 23 }, p2 = { (n2 + 127) << 23 };
    return y * p1.f * p2.f;
}
static inline float omni_sigmoidf(float x) { return 1.0f / (1.0f + omni_expf(-x)); }
static inline float omni_tanhf(float x) {
    float a = x < 0 ? -x : x;
    a = a > 9.0f ? 9.0f : a;
    float e = omni_expf(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    // near zero, 1 - e loses relative precision: use the odd series there
    float x2 = x * x;
    float s = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
    float r = x < 0 ? -t : t;
    return a < 0.05f ? s : r;
}
/// erfc(a) for a >= 0 (Abramowitz & Stegun 7.1.26 form, |error| <= 1.5e-7).
static inline float omni_erfc_pos(float a) {
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    return p * t * omni_expf(-a * a);
}
static inline float omni_erff(float x) {
    float a = x < 0 ? -x : x;
    float e = 1.0f - omni_erfc_pos(a);
    return x < 0 ? -e : e;
}
#endif
