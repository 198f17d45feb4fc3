// Elementwise kernels: strided copy, dtype casts, unary / binary / compare / where on float32.
#include "internal.h"

// ---- strided copy ---------------------------------------------------------------------------
struct copy_ctx { int es; const char *src; char *dst; };

static void copy_run(void *p, int64_t out_off, int64_t len, const int64_t *offs, const int64_t *inner) {
    (void)out_off;
    struct copy_ctx *c = (struct copy_ctx *)p;
    const char *s = c->src + offs[0] * c->es;
    char *d = c->dst + offs[1] * c->es;
    int64_t ss = inner[0] * c->es, ds = inner[1] * c->es;
    if (ss == c->es && ds == c->es) { memcpy(d, s, (size_t)(len * c->es)); return; }
    switch (c->es) {
    case 4: for (int64_t i = 0; i < len; i++) *(int32_t *)(d + i * ds) = *(const int32_t *)(s + i * ss); break;
    case 8: for (int64_t i = 0; i < len; i++) *(int64_t *)(d + i * ds) = *(const int64_t *)(s + i * ss); break;
    case 2: for (int64_t i = 0; i < len; i++) *(int16_t *)(d + i * ds) = *(const int16_t *)(s + i * ss); break;
    case 1: for (int64_t i = 0; i < len; i++) d[i * ds] = s[i * ss]; break;
    default: for (int64_t i = 0; i < len; i++) memcpy(d + i * ds, s + i * ss, (size_t)c->es);
    }
}

void omni_copy_strided(int elem_size, int ndim, const int64_t *shape,
                       const void *src, const int64_t *src_strides,
                       void *dst, const int64_t *dst_strides) {
    struct copy_ctx c = { elem_size, (const char *)src, (char *)dst };
    const int64_t *st[2] = { src_strides, dst_strides };
    omni_nd_parallel(ndim, shape, 2, st, copy_run, &c);
}

// ---- casts ----------------------------------------------------------------------------------
static inline float bf16_to_f32(uint16_t h) { union { uint32_t u; float f; } v = { (uint32_t)h << 16 }; return v.f; }
static inline uint16_t f32_to_bf16(float f) {
    union { float f; uint32_t u; } v = { f };
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40);  // quiet NaN
    uint32_t rounding = 0x7fff + ((v.u >> 16) & 1);
    return (uint16_t)((v.u + rounding) >> 16);
}

/// An integer rounded to bfloat16 in one step: going through float32 first would round twice
/// (e.g. 2^30 + 2^22 + 1 lands on a bfloat16 tie in float32 and then rounds down, not up).
static uint16_t i64_to_bf16(int64_t v) {
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    float f = (float)mag;  // exact while mag has at most 8 significant bits
    if (mag >> 8) {
        int shift = 64 - __builtin_clzll(mag) - 8;
        uint64_t q = mag >> shift, rem = mag & ((1ull << shift) - 1), half = 1ull << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        f = ldexpf((float)q, shift);  // q <= 256: exact, and exactly a bfloat16 value
    }
    return f32_to_bf16(v < 0 ? -f : f);
}

static double load_as_double(int dt, const void *p, int64_t i) {
    switch (dt) {
    case OMNI_F32: return ((const float *)p)[i];
    case OMNI_BF16: return bf16_to_f32(((const uint16_t *)p)[i]);
    case OMNI_F16: return (double)((const _Float16 *)p)[i];
    case OMNI_I8: return ((const int8_t *)p)[i];
    case OMNI_U8: return ((const uint8_t *)p)[i];
    case OMNI_I32: return ((const int32_t *)p)[i];
    case OMNI_I64: return (double)((const int64_t *)p)[i];
    case OMNI_BOOL: return ((const uint8_t *)p)[i] ? 1.0 : 0.0;
    }
    return 0;
}

static int64_t load_as_int(int dt, const void *p, int64_t i) {
    switch (dt) {
    case OMNI_I8: return ((const int8_t *)p)[i];
    case OMNI_U8: return ((const uint8_t *)p)[i];
    case OMNI_I32: return ((const int32_t *)p)[i];
    case OMNI_I64: return ((const int64_t *)p)[i];
    case OMNI_BOOL: return ((const uint8_t *)p)[i] ? 1 : 0;
    }
    double d = load_as_double(dt, p, i);
    if (d != d) return 0;
    if (d >= 9.2233720368547758e18) return INT64_MAX;
    if (d <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)d;  // truncation toward zero
}

static int is_float(int dt) { return dt == OMNI_F32 || dt == OMNI_BF16 || dt == OMNI_F16; }

static void store(int dt, void *p, int64_t i, int src_float, double d, int64_t v) {
    switch (dt) {
    case OMNI_F32: ((float *)p)[i] = src_float ? (float)d : (float)v; break;
    case OMNI_BF16: ((uint16_t *)p)[i] = src_float ? f32_to_bf16((float)d) : i64_to_bf16(v); break;
    case OMNI_F16: ((_Float16 *)p)[i] = (_Float16)(src_float ? (float)d : (float)v); break;
    // Integer targets wrap like C (and NumPy's astype) for out-of-range values.
    case OMNI_I8: ((int8_t *)p)[i] = (int8_t)(uint64_t)v; break;
    case OMNI_U8: ((uint8_t *)p)[i] = (uint8_t)(uint64_t)v; break;
    case OMNI_I32: ((int32_t *)p)[i] = (int32_t)(uint64_t)v; break;
    case OMNI_I64: ((int64_t *)p)[i] = v; break;
    case OMNI_BOOL: ((uint8_t *)p)[i] = src_float ? (d != 0.0) : (v != 0); break;
    }
}

OMNI_CLONES static void cast_f32_bf16(const float *s, uint16_t *d, int64_t n) { for (int64_t i = 0; i < n; i++) d[i] = f32_to_bf16(s[i]); }
OMNI_CLONES static void cast_bf16_f32(const uint16_t *s, float *d, int64_t n) { for (int64_t i = 0; i < n; i++) d[i] = bf16_to_f32(s[i]); }

void omni_cast(int src_dtype, const void *src, int dst_dtype, void *dst, int64_t n) {
    if (src_dtype == OMNI_F32 && dst_dtype == OMNI_BF16) { cast_f32_bf16(src, dst, n); return; }
    if (src_dtype == OMNI_BF16 && dst_dtype == OMNI_F32) { cast_bf16_f32(src, dst, n); return; }
    int sf = is_float(src_dtype);
    for (int64_t i = 0; i < n; i++) {
        double d = sf ? load_as_double(src_dtype, src, i) : 0;
        int64_t v = sf ? (is_float(dst_dtype) || dst_dtype == OMNI_BOOL ? 0 : load_as_int(src_dtype, src, i))
                       : load_as_int(src_dtype, src, i);
        store(dst_dtype, dst, i, sf, d, v);
    }
}

// ---- unary ----------------------------------------------------------------------------------
#define SQRT_1_2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f
#define SQRT_2_PI 0.79788456080286536f

/// 1 + erf(x/√2), as erfc(|x|/√2) or 2 - erfc(|x|/√2): never forming 1 + erf keeps it relatively
/// accurate in the negative tail, where GELU's value is tiny. x²/2 is passed rounded once, which
/// is what limits the accuracy there (the relative error of exp(-x²/2) is x²/2 times its own).
static inline float gelu_phi2(float x) {
    float a = (x < 0 ? -x : x) * SQRT_1_2;
    float c = omni_erfc_pos2(a, 0.5f * x * x);
    return x < 0 ? c : 2.0f - c;
}
static inline float gelu_erf(float x) { return 0.5f * x * gelu_phi2(x); }
/// 0.5·x·(1 + tanh(u)) written as x·sigmoid(2u), which does not cancel for negative x.
static inline float gelu_tanh_u(float x) { return SQRT_2_PI * (x + 0.044715f * x * x * x); }
static inline float gelu_tanh(float x) { return x * omni_sigmoidf(2.0f * gelu_tanh_u(x)); }

#define UNARY_LOOP(EXPR)                                                         \
    if (xs == 1) { for (int64_t i = 0; i < n; i++) { float v = x[i]; y[i] = (EXPR); } } \
    else { for (int64_t i = 0; i < n; i++) { float v = x[i * xs]; y[i] = (EXPR); } } \
    break;

OMNI_CLONES void omni_unary_run(int op, float alpha, float beta, int64_t n,
                                const float *x, int64_t xs, float *y) {
    switch (op) {
    case OMNI_U_NEG: UNARY_LOOP(-v)
    case OMNI_U_ABS: UNARY_LOOP(__builtin_fabsf(v))
    case OMNI_U_SIGN: UNARY_LOOP(v > 0 ? 1.0f : (v < 0 ? -1.0f : (v == v ? 0.0f : v)))
    case OMNI_U_EXP: UNARY_LOOP(omni_expf(v))
    case OMNI_U_LOG: UNARY_LOOP(logf(v))
    case OMNI_U_LOG1P: UNARY_LOOP(log1pf(v))
    case OMNI_U_SQRT: UNARY_LOOP(__builtin_sqrtf(v))
    case OMNI_U_RSQRT: UNARY_LOOP(1.0f / __builtin_sqrtf(v))
    case OMNI_U_SIN: UNARY_LOOP(sinf(v))
    case OMNI_U_COS: UNARY_LOOP(cosf(v))
    case OMNI_U_TANH: UNARY_LOOP(omni_tanhf(v))
    case OMNI_U_SIGMOID: UNARY_LOOP(omni_sigmoidf(v))
    case OMNI_U_RELU: UNARY_LOOP(v < 0 ? 0.0f : v)   // NaN propagates, as in PyTorch
    case OMNI_U_LEAKY_RELU: UNARY_LOOP(v > 0 ? v : alpha * v)
    case OMNI_U_GELU_ERF: UNARY_LOOP(gelu_erf(v))
    case OMNI_U_GELU_TANH: UNARY_LOOP(gelu_tanh(v))
    case OMNI_U_SILU: UNARY_LOOP(v * omni_sigmoidf(v))
    case OMNI_U_SOFTPLUS: UNARY_LOOP(alpha * v > beta ? v : log1pf(expf(alpha * v)) / alpha)
    case OMNI_U_CLAMP: UNARY_LOOP(v < alpha ? alpha : (v > beta ? beta : v))
    case OMNI_U_POW_SCALAR: UNARY_LOOP(alpha == 2.0f ? v * v : powf(v, alpha))
    case OMNI_U_AFFINE: UNARY_LOOP(alpha * v + beta)
    case OMNI_U_RECIPROCAL: UNARY_LOOP(1.0f / v)
    case OMNI_U_SQUARE: UNARY_LOOP(v * v)
    case OMNI_U_ERF: UNARY_LOOP(omni_erff(v))   // vectorised; within ~4 ulp of libm erff
    case OMNI_U_EXPM1: UNARY_LOOP(expm1f(v))
    case OMNI_U_GELU_ERF_GRAD: UNARY_LOOP(0.5f * gelu_phi2(v) + v * INV_SQRT_2PI * omni_expf(-0.5f * v * v))
    case OMNI_U_GELU_TANH_GRAD: {
        // d/dx x·s(2u) = s + 2x·s·(1 - s)·u', with 1 - s = s(-2u) to keep the tail accurate
        UNARY_LOOP(({ float u = gelu_tanh_u(v); float s = omni_sigmoidf(2.0f * u), sc = omni_sigmoidf(-2.0f * u);
                      s + 2.0f * v * s * sc * SQRT_2_PI * (1.0f + 3.0f * 0.044715f * v * v); }))
    }
    case OMNI_U_SILU_GRAD: UNARY_LOOP(({ float s = omni_sigmoidf(v); s * (1.0f + v * (1.0f - s)); }))
    case OMNI_U_STEP: UNARY_LOOP(v > 0 ? 1.0f : 0.0f)
    case OMNI_U_LEAKY_RELU_GRAD: UNARY_LOOP(v > 0 ? 1.0f : alpha)
    case OMNI_U_CLAMP_MASK: UNARY_LOOP((v >= alpha && v <= beta) ? 1.0f : 0.0f)
    case OMNI_U_COPY: UNARY_LOOP(v)
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
// GELU (erf form) on contiguous data with AVX-512: the same formula as gelu_erf (erfc fit of
// internal.h, Cephes exp polynomial), but 1/(1 + 0.4a) from vrcp14ps plus one Newton step
// instead of a division, and 2^n by vscalefps (exact through the subnormals). The portable path
// is compute-bound at ~0.55 of copy bandwidth on Zen 4; this one is not.
__attribute__((target("avx512f")))
static void gelu_erf_avx512(int64_t n, const float *x, float *y) {
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    const __m512 zero = _mm512_setzero_ps(), big = _mm512_set1_ps(1e30f), floor_ = _mm512_set1_ps(-104.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        // 1 + 0.4·|x|/√2 (capped so that ±inf gives t = 0 rather than NaN)
        __m512 d = _mm512_min_ps(_mm512_fmadd_ps(_mm512_abs_ps(v), _mm512_set1_ps(0.4f * SQRT_1_2), one), big);
        __m512 t = _mm512_rcp14_ps(d);
        t = _mm512_mul_ps(t, _mm512_fnmadd_ps(d, t, two));                          // 1 / (1 + 0.4a)
        // 0.5 · P(t): internal.h's erfc fit with its coefficients halved
        __m512 p = _mm512_set1_ps(0.5f * omni_erfc_poly[0]);
        for (int k = 1; k < 9; k++) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.5f * omni_erfc_poly[k]));
        // exp(-x²/2): clamped at -104 (below it the result rounds to 0; vscalefps gets there exactly)
        __m512 e = _mm512_max_ps(_mm512_mul_ps(_mm512_mul_ps(v, v), _mm512_set1_ps(-0.5f)), floor_);
        // round(e / ln 2) with the 1.5·2^23 shifter (two adds instead of a vrndscaleps)
        __m512 fx = _mm512_sub_ps(_mm512_fmadd_ps(e, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(12582912.0f)),
                                  _mm512_set1_ps(12582912.0f));
        __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), e);
        r = _mm512_fmadd_ps(fx, _mm512_set1_ps(2.12194440e-4f), r);
        __m512 z = _mm512_mul_ps(r, r);
        // internal.h's exp polynomial without its r^6 term (r ∈ ±ln2/2: ≤ 3e-7 relative, far below
        // what the erfc fit and the rounding of x²/2 contribute)
        __m512 q = _mm512_set1_ps(omni_exp_poly[1]);
        for (int k = 2; k < 6; k++) q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(omni_exp_poly[k]));
        q = _mm512_add_ps(_mm512_fmadd_ps(q, z, r), one);
        __m512 c = _mm512_mul_ps(_mm512_mul_ps(p, t), _mm512_scalef_ps(q, fx));      // erfc(|x|/√2) / 2
        __mmask16 neg = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
        __m512 phi = _mm512_mask_blend_ps(neg, _mm512_sub_ps(one, c), c);           // Φ(x)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(v, phi));
    }
    for (; i < n; i++) y[i] = gelu_erf(x[i]);
}
#endif

struct unary_ctx { int op; float alpha, beta; const float *x; float *y; };
static void unary_run(void *p, int64_t out_off, int64_t len, const int64_t *offs, const int64_t *inner) {
    struct unary_ctx *c = (struct unary_ctx *)p;
#if defined(__x86_64__)
    if (c->op == OMNI_U_GELU_ERF && inner[0] == 1 && __builtin_cpu_supports("avx512f")) {
        gelu_erf_avx512(len, c->x + offs[0], c->y + out_off);
        return;
    }
#endif
    omni_unary_run(c->op, c->alpha, c->beta, len, c->x + offs[0], inner[0], c->y + out_off);
}

void omni_unary_f32(int op, float alpha, float beta, int ndim, const int64_t *shape,
                    const float *x, const int64_t *x_strides, float *out) {
    struct unary_ctx c = { op, alpha, beta, x, out };
    const int64_t *st[1] = { x_strides };
    omni_nd_parallel(ndim, shape, 1, st, unary_run, &c);
}

// ---- binary ---------------------------------------------------------------------------------
#define BIN_EXPR_ADD(a, b) ((a) + (b))
#define BIN_EXPR_SUB(a, b) ((a) - (b))
#define BIN_EXPR_MUL(a, b) ((a) * (b))
#define BIN_EXPR_DIV(a, b) ((a) / (b))
#define BIN_EXPR_POW(a, b) powf((a), (b))
// NaN-propagating like torch.maximum / torch.minimum
#define BIN_EXPR_MAX(a, b) (((a) != (a) || (b) != (b)) ? ((a) + (b)) : ((a) > (b) ? (a) : (b)))
#define BIN_EXPR_MIN(a, b) (((a) != (a) || (b) != (b)) ? ((a) + (b)) : ((a) < (b) ? (a) : (b)))

#define BIN_LOOPS(E)                                                                              \
    if (as == 1 && bs == 1) { for (int64_t i = 0; i < n; i++) y[i] = E(a[i], b[i]); }             \
    else if (as == 1 && bs == 0) { float bv = b[0]; for (int64_t i = 0; i < n; i++) y[i] = E(a[i], bv); } \
    else if (as == 0 && bs == 1) { float av = a[0]; for (int64_t i = 0; i < n; i++) y[i] = E(av, b[i]); } \
    else { for (int64_t i = 0; i < n; i++) y[i] = E(a[i * as], b[i * bs]); }                       \
    break;

OMNI_CLONES void omni_binary_run(int op, int64_t n, const float *a, int64_t as,
                                 const float *b, int64_t bs, float *y) {
    switch (op) {
    case OMNI_B_ADD: BIN_LOOPS(BIN_EXPR_ADD)
    case OMNI_B_SUB: BIN_LOOPS(BIN_EXPR_SUB)
    case OMNI_B_MUL: BIN_LOOPS(BIN_EXPR_MUL)
    case OMNI_B_DIV: BIN_LOOPS(BIN_EXPR_DIV)
    case OMNI_B_POW: BIN_LOOPS(BIN_EXPR_POW)
    case OMNI_B_MAX: BIN_LOOPS(BIN_EXPR_MAX)
    case OMNI_B_MIN: BIN_LOOPS(BIN_EXPR_MIN)
    }
}

struct binary_ctx { int op; const float *a, *b; float *y; };
static void binary_run(void *p, int64_t out_off, int64_t len, const int64_t *offs, const int64_t *inner) {
    struct binary_ctx *c = (struct binary_ctx *)p;
    omni_binary_run(c->op, len, c->a + offs[0], inner[0], c->b + offs[1], inner[1], c->y + out_off);
}

void omni_binary_f32(int op, int ndim, const int64_t *shape,
                     const float *a, const int64_t *a_strides,
                     const float *b, const int64_t *b_strides, float *out) {
    struct binary_ctx c = { op, a, b, out };
    const int64_t *st[2] = { a_strides, b_strides };
    omni_nd_parallel(ndim, shape, 2, st, binary_run, &c);
}

// ---- compare / where ------------------------------------------------------------------------
struct cmp_ctx { int op; const float *a, *b; uint8_t *y; };
static void cmp_run(void *p, int64_t out_off, int64_t len, const int64_t *offs, const int64_t *inner) {
    struct cmp_ctx *c = (struct cmp_ctx *)p;
    const float *a = c->a + offs[0], *b = c->b + offs[1];
    int64_t as = inner[0], bs = inner[1];
    uint8_t *y = c->y + out_off;
    switch (c->op) {
    case OMNI_C_EQ: for (int64_t i = 0; i < len; i++) y[i] = a[i * as] == b[i * bs]; break;
    case OMNI_C_NE: for (int64_t i = 0; i < len; i++) y[i] = a[i * as] != b[i * bs]; break;
    case OMNI_C_LT: for (int64_t i = 0; i < len; i++) y[i] = a[i * as] < b[i * bs]; break;
    case OMNI_C_LE: for (int64_t i = 0; i < len; i++) y[i] = a[i * as] <= b[i * bs]; break;
    case OMNI_C_GT: for (int64_t i = 0; i < len; i++) y[i] = a[i * as] > b[i * bs]; break;
    case OMNI_C_GE: for (int64_t i = 0; i < len; i++) y[i] = a[i * as] >= b[i * bs]; break;
    }
}

void omni_compare_f32(int op, int ndim, const int64_t *shape,
                      const float *a, const int64_t *a_strides,
                      const float *b, const int64_t *b_strides, uint8_t *out) {
    struct cmp_ctx c = { op, a, b, out };
    const int64_t *st[2] = { a_strides, b_strides };
    omni_nd_parallel(ndim, shape, 2, st, cmp_run, &c);
}

struct where_ctx { const uint8_t *c; const float *a, *b; float *y; };
static void where_run(void *p, int64_t out_off, int64_t len, const int64_t *offs, const int64_t *inner) {
    struct where_ctx *w = (struct where_ctx *)p;
    const uint8_t *c = w->c + offs[0];
    const float *a = w->a + offs[1], *b = w->b + offs[2];
    float *y = w->y + out_off;
    for (int64_t i = 0; i < len; i++) y[i] = c[i * inner[0]] ? a[i * inner[1]] : b[i * inner[2]];
}

void omni_where_f32(int ndim, const int64_t *shape,
                    const uint8_t *cond, const int64_t *c_strides,
                    const float *a, const int64_t *a_strides,
                    const float *b, const int64_t *b_strides, float *out) {
    struct where_ctx w = { cond, a, b, out };
    const int64_t *st[3] = { c_strides, a_strides, b_strides };
    omni_nd_parallel(ndim, shape, 3, st, where_run, &w);
}
