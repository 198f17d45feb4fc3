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

/// Makes the calling thread's OpenMP thread count (what oneDNN uses) Omni's count; returns it.
int omni_sync_omp_threads(void);

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

// Branch-free float math that vectorises: selects, no calls, no data-dependent branches.

/// exp(x - fx·ln 2) for |x - fx·ln 2| <= ln 2 / 2, fx = round(x / ln 2): Cephes' expf polynomial,
/// with ln 2 split in two so the reduction is exact enough. Shared by the exp variants below.
/// Cephes' expf polynomial, highest degree first: exp(r) ≈ 1 + r + r²·P(r).
static const float omni_exp_poly[6] = {
    1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f };
static inline float omni_exp_reduced(float x, float fx) {
    float r = x - fx * 0.693359375f;
    r = r + fx * 2.12194440e-4f;
    float z = r * r;
    float y = omni_exp_poly[0];
    for (int k = 1; k < 6; k++) y = y * r + omni_exp_poly[k];
    return y * z + r + 1.0f;
}
/// exp(x) (Cephes-style range reduction and polynomial, ~1 ulp). Overflows to +inf above
/// ln(FLT_MAX), underflows through the subnormals to 0 below ln(2^-150), and keeps NaN.
static inline float omni_expf(float x) {
    // Clamp to where 2^n can be built (NaN becomes finite here and is restored at the end, so the
    // float -> int conversion below never sees NaN).
    float c = x < 88.72283172607421875f ? x : 88.72283172607421875f;
    c = c > -104.0f ? c : -104.0f;
    float fx = c * 1.44269504088896341f;
    fx = __builtin_floorf(fx + 0.5f);
    float y = omni_exp_reduced(c, fx);
    // 2^n in two steps so that n from -150 (results that round to 0) to 128 stays representable.
    int n = (int)fx;
    int n1 = n / 2, n2 = n - n1;
    union { int i; float f; } p1 = { (n1 + 127) << 23 }, p2 = { (n2 + 127) << 23 };
    float e = y * p1.f * p2.f;
    e = x > 88.72283172607421875f ? __builtin_inff() : e;
    return x != x ? x : e;
}
/// 1 / (1 + exp(-x)), relatively accurate for large negative x too (exp(x) / (1 + exp(x)) there).
static inline float omni_sigmoidf(float x) {
    float e = omni_expf(x < 0 ? x : -x);   // exp(-|x|) <= 1, never overflows
    float s = 1.0f / (1.0f + e);
    return x < 0 ? e * s : s;
}
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
/// exp(x) for x <= 0 (GELU's exp(-x²/2)): omni_expf's polynomial with the rounding done by the
/// 1.5·2^23 shifter and 2^n added straight into the exponent bits — about half the instructions
/// of omni_expf, which keeps GELU bandwidth-bound. Below -86 the exponent is built in two steps
/// (2^(n+64) · 2^-64) so subnormal results stay right; below -104 the result rounds to 0.
static inline float omni_exp_nonpositive(float x) {
    const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
    float keep = x >= -104.0f ? 1.0f : 0.0f;
    x = x >= -104.0f ? x : -104.0f;
    float fx = x * 1.44269504088896341f + shifter;
    union { float f; uint32_t u; } n = { fx };
    fx -= shifter;                       // round(x / ln 2)
    float y = omni_exp_reduced(x, fx);
    uint32_t deep = x < -86.0f ? 64u : 0u;
    union { float f; uint32_t u; } e = { y };
    e.u += (n.u - 0x4B400000u + deep) << 23;    // y · 2^(round(x / ln 2) + deep)
    float unscale = x < -86.0f ? 5.42101086242752217e-20f : 1.0f;  // 2^-64
    return e.f * unscale * keep;
}
/// erfc(a) for a >= 0, given a2 = a * a (callers that know a^2 more exactly than a * a pass it:
/// the relative error of exp(-a2) is a2 times that of a2). Relative error ~5e-7 plus that
/// amplified rounding of a2 (4e-6 in all at a = 9, where erfc reaches the subnormals):
/// erfc(a) = exp(-a^2) t P(t) with t = 1 / (1 + 0.4 a); P is a degree-8
/// minimax fit of erfcx(a) / t on t in [0, 1] (relative error 1.3e-7 in exact arithmetic;
/// scripts/fit_erf.py computes both fits).
static const float omni_erfc_poly[9] = {   // P, highest degree first
    5.026213080e-02f, -1.829014719e-01f, 1.690854281e-01f, -5.607539788e-03f, 1.414314359e-01f,
    1.685419828e-01f, 2.078427076e-01f, 2.256696075e-01f, 2.256758660e-01f };
static inline float omni_erfc_pos2(float a, float a2) {
    float t = 1.0f / (1.0f + 0.4f * a);
    float p = omni_erfc_poly[0];
    for (int k = 1; k < 9; k++) p = p * t + omni_erfc_poly[k];
    return p * t * omni_exp_nonpositive(-a2);
}
static inline float omni_erfc_pos(float a) { return omni_erfc_pos2(a, a * a); }
/// erf(x), relatively accurate near 0 too: erf(x) = x Q(x^2) for |x| < 0.5 (minimax, relative
/// error 1.4e-9), 1 - erfc(|x|) with the sign of x beyond.
static inline float omni_erff(float x) {
    float a = x < 0 ? -x : x;
    float s = x * x;
    float q = 4.717989825e-03f;
    q = q * s - 2.675718442e-02f;
    q = q * s + 1.128282249e-01f;
    q = q * s - 3.761260808e-01f;
    q = q * s + 1.128379107e+00f;
    float e = 1.0f - omni_erfc_pos2(a, s);
    e = x < 0 ? -e : e;
    return a < 0.5f ? x * q : e;
}
#endif
