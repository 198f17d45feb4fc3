// COmniKernels: the CPU kernels under OmniTensor.
//
// Conventions: sizes and strides are int64_t counts of *elements* (not bytes); outputs are dense
// (C-contiguous) unless a stride array is given for them. Every kernel that parallelises splits its
// work into a number of chunks fixed by the thread count alone, and never splits a reduction, so a
// fixed thread count gives bit-for-bit identical results.
#ifndef COMNI_KERNELS_H
#define COMNI_KERNELS_H
#include <stdint.h>
#include <stddef.h>
#include "omni_optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OMNI_MAX_DIMS 16

// ---- threads (libgomp: the same pool oneDNN uses) -------------------------------------------
void omni_set_num_threads(int n);
// n uniform float32 values min((float)(low + span·u), top), u = next()>>11 · 2^-53, advancing state.
void omni_xoshiro_uniform_f32(uint64_t state[4], float *out, int64_t n, double low, double span, float top);
int omni_get_num_threads(void);
typedef void (*omni_task_fn)(void *ctx, int tid, int nthreads);
/// The OpenMP thread count a parallel region started on the calling thread gets (oneDNN's);
/// Omni's oneDNN calls set it to omni_get_num_threads() first.
int omni_omp_threads_here(void);
/// Runs fn(ctx, tid, n) for tid in 0..<n on the shared pool (n <= 1 runs inline). Tasks may
/// outnumber the pool's threads; threads claim them dynamically, so a task must depend only on tid.
void omni_parallel(int nthreads, omni_task_fn fn, void *ctx);

// ---- tensor storage ----------------------------------------------------------------------------
/// A 64-byte aligned buffer of at least `bytes` bytes (NULL when out of memory). Large blocks
/// come from a bounded cache of freed ones (OMNI_STORAGE_CACHE_MB, default 1 GiB or 1/8 of RAM),
/// so that ops producing big outputs do not page-fault fresh memory in on every call.
void *omni_storage_alloc(size_t bytes);
/// Returns a block from omni_storage_alloc; `bytes` is the size it was allocated with.
void omni_storage_free(void *ptr, size_t bytes);
/// Bytes held by the cache of freed blocks.
size_t omni_storage_cached_bytes(void);
/// Frees every cached block.
void omni_storage_release_cache(void);

// ---- dtypes (values match Swift's DType.code) ---------------------------------------------------
enum {
    OMNI_F32 = 0, OMNI_BF16 = 1, OMNI_F16 = 2, OMNI_I8 = 3, OMNI_U8 = 4,
    OMNI_I32 = 5, OMNI_I64 = 6, OMNI_BOOL = 7
};

// ---- copies ---------------------------------------------------------------------------------
/// dst[idx] = src[idx] for every index of `shape`, any element size, any strides (dst may be a view).
void omni_copy_strided(int elem_size, int ndim, const int64_t *shape,
                       const void *src, const int64_t *src_strides,
                       void *dst, const int64_t *dst_strides);
/// Dense conversion between dtypes; float->int truncates toward zero, ->bool is (x != 0),
/// ->bf16/f16 rounds to nearest even.
void omni_cast(int src_dtype, const void *src, int dst_dtype, void *dst, int64_t n);

// ---- elementwise float32 ----------------------------------------------------------------------
enum {
    OMNI_U_NEG = 0, OMNI_U_ABS, OMNI_U_SIGN, OMNI_U_EXP, OMNI_U_LOG, OMNI_U_LOG1P, OMNI_U_SQRT,
    OMNI_U_RSQRT, OMNI_U_SIN, OMNI_U_COS, OMNI_U_TANH, OMNI_U_SIGMOID, OMNI_U_RELU,
    OMNI_U_LEAKY_RELU /* alpha = slope */, OMNI_U_GELU_ERF, OMNI_U_GELU_TANH, OMNI_U_SILU,
    OMNI_U_SOFTPLUS /* alpha = beta, beta = threshold */, OMNI_U_CLAMP /* [alpha, beta] */,
    OMNI_U_POW_SCALAR /* x^alpha */, OMNI_U_AFFINE /* alpha*x + beta */, OMNI_U_RECIPROCAL,
    OMNI_U_SQUARE, OMNI_U_ERF, OMNI_U_EXPM1,
    // derivatives used by gradient rules
    OMNI_U_GELU_ERF_GRAD, OMNI_U_GELU_TANH_GRAD, OMNI_U_SILU_GRAD, OMNI_U_STEP /* x > 0 */,
    OMNI_U_LEAKY_RELU_GRAD /* 1 or alpha */, OMNI_U_CLAMP_MASK /* 1 inside [alpha, beta] */,
    OMNI_U_COPY,
    OMNI_U_COUNT
};
/// out = op(x) over `shape`; x strided, out dense.
void omni_unary_f32(int op, float alpha, float beta, int ndim, const int64_t *shape,
                    const float *x, const int64_t *x_strides, float *out);

enum {
    OMNI_B_ADD = 0, OMNI_B_SUB, OMNI_B_MUL, OMNI_B_DIV, OMNI_B_POW, OMNI_B_MAX, OMNI_B_MIN,
    OMNI_B_COUNT
};
/// out = a op b over `shape` (broadcast operands have stride 0); out dense.
void omni_binary_f32(int op, int ndim, const int64_t *shape,
                     const float *a, const int64_t *a_strides,
                     const float *b, const int64_t *b_strides, float *out);

enum { OMNI_C_EQ = 0, OMNI_C_NE, OMNI_C_LT, OMNI_C_LE, OMNI_C_GT, OMNI_C_GE };
/// out = (a cmp b) as 0/1 bytes.
void omni_compare_f32(int op, int ndim, const int64_t *shape,
                      const float *a, const int64_t *a_strides,
                      const float *b, const int64_t *b_strides, uint8_t *out);
/// out = cond ? a : b (cond bytes, nonzero = true).
void omni_where_f32(int ndim, const int64_t *shape,
                    const uint8_t *cond, const int64_t *c_strides,
                    const float *a, const int64_t *a_strides,
                    const float *b, const int64_t *b_strides, float *out);

// ---- reductions over the middle axis of a dense [outer, n, inner] array -----------------------
enum { OMNI_R_SUM = 0, OMNI_R_MAX, OMNI_R_MIN, OMNI_R_LOGSUMEXP, OMNI_R_PROD };
void omni_reduce_f32(int op, int64_t outer, int64_t n, int64_t inner, const float *x, float *out);
/// argmax (is_min = 0) or argmin (is_min = 1); ties resolve to the first index; NaN wins.
void omni_argreduce_f32(int is_min, int64_t outer, int64_t n, int64_t inner, const float *x, int64_t *out);
/// Cumulative sum along the middle axis.
void omni_cumsum_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *out);
/// Softmax (log = 0) or log-softmax (log = 1) along the middle axis.
void omni_softmax_f32(int log, int64_t outer, int64_t n, int64_t inner, const float *x, float *out);
/// Cross-entropy of each row of dense x [rows, n] (logits over n classes) against target[r]
/// (a class index, or negative: ignored, loss 0): (1 - smoothing)(lse - x[t]) + smoothing(lse - mean(x)),
/// lse = log Σ exp(x). stats [rows, 2] receives (max, log Σ exp(x - max)) for the backward pass.
void omni_cross_entropy_f32(int64_t rows, int64_t n, const float *x, const int64_t *target, float smoothing,
                            float *loss, float *stats);
/// dx[r, c] = g[r] (softmax(x[r])[c] - smoothing / n - (1 - smoothing)[c = target[r]]); 0 for ignored rows.
void omni_cross_entropy_backward_f32(int64_t rows, int64_t n, const float *x, const int64_t *target, float smoothing,
                                     const float *stats, const float *g, float *dx);
/// Indices of the k largest (largest = 1) or smallest values of each row of a dense [rows, n], sorted.
void omni_topk_rows_f32(int largest, int64_t rows, int64_t n, int64_t k, const float *x,
                        float *values, int64_t *indices);

// ---- fused normalisation over the last axis of dense [rows, n] --------------------------------
/// y = (x - mean) * rstd * gamma + beta; gamma/beta may be NULL; mean/rstd [rows] written if non-NULL.
/// rms = 1 gives RMS norm (no mean subtraction, beta ignored).
void omni_norm_rows_f32(int rms, int64_t rows, int64_t n, const float *x, const float *gamma,
                        const float *beta, float eps, float *y, float *mean, float *rstd);

// ---- indexing -------------------------------------------------------------------------------
/// out[o, j, i] = x[o, idx[j], i] for dense x [outer, n, inner]; idx int64, checked in [0, n) beforehand.
void omni_index_select(int elem_size, int64_t outer, int64_t n, int64_t inner, const void *x,
                       const int64_t *idx, int64_t nidx, void *out);
/// out[o, idx[j], i] += src[o, j, i] (float32), sequential over j so the result is deterministic.
void omni_index_add_f32(int64_t outer, int64_t n, int64_t inner, float *out,
                        const int64_t *idx, int64_t nidx, const float *src);
/// gather along the middle axis: out[o, j, i] = x[o, idx[o, j, i], i]; x [outer, n, inner], idx/out [outer, m, inner].
void omni_gather_f32(int64_t outer, int64_t n, int64_t inner, const float *x,
                     int64_t m, const int64_t *idx, float *out);
/// scatter-add along the middle axis: out[o, idx[o, j, i], i] += src[o, j, i].
void omni_scatter_add_f32(int64_t outer, int64_t n, int64_t inner, float *out,
                          int64_t m, const int64_t *idx, const float *src);

// ---- int8 GEMM reference (correct on every CPU) ---------------------------------------------
/// c[m, n] = sum_k (a[m, k] - a_zero) * b[k, n] as int32; a u8 [M, K] dense, b s8 [K, N] dense.
void omni_gemm_u8s8s32_ref(int64_t M, int64_t N, int64_t K, const uint8_t *a, int32_t a_zero,
                           const int8_t *b, int32_t *c);

// ---- oneDNN glue (primitive caches live in C) ------------------------------------------------
/// 0 on success; otherwise a dnnl_status_t, and omni_dnnl_last_error() describes the failure.
const char *omni_dnnl_last_error(void);
/// The effective ISA oneDNN dispatches to, as text ("avx512_core_bf16", ...).
const char *omni_dnnl_isa_name(void);
/// 1 when oneDNN's int8 kernels are exact here (VNNI or AMX present).
int omni_dnnl_int8_exact(void);
/// Number of cached primitives (for tests of the cache).
int64_t omni_dnnl_cache_size(void);

/// Batched matmul: dst[b] = src[b] x wei[b] (+ bias[n]). Batch 1 on one side broadcasts.
/// Strides are in elements and describe [batch, rows, cols]; one of the two inner strides must be 1.
/// dtype: OMNI_F32 (all f32), OMNI_BF16 (src/wei bf16, dst f32).
int omni_matmul(int dtype, int64_t batch_src, int64_t batch_wei, int64_t M, int64_t N, int64_t K,
                const void *src, const int64_t *src_strides,
                const void *wei, const int64_t *wei_strides,
                const float *bias, float *dst);
/// int8: dst f32 [batch, M, N] = scale_a * scale_b[n] * ((a - a_zero) x b) + bias[n];
/// a u8 [batch, M, K], b s8 [batch_b, K, N]; nscales is 1 (per tensor) or N (per column).
int omni_matmul_u8s8(int64_t batch_src, int64_t batch_wei, int64_t M, int64_t N, int64_t K,
                     const uint8_t *a, const int64_t *a_strides, int32_t a_zero, float a_scale,
                     const int8_t *b, const int64_t *b_strides, const float *b_scales, int64_t nscales,
                     const float *bias, float *dst);

/// 2-D convolution, NCHW activations, OIHW (grouped: [G*O/G, I/G, KH, KW]) weights, all dense f32.
typedef struct {
    int64_t n, c, h, w;       // input
    int64_t oc, kh, kw;       // output channels, kernel
    int64_t oh, ow;           // output spatial size (computed by the caller)
    int64_t groups;
    int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;  // dilation 1 = dense
} omni_conv2d_shape;
int omni_conv2d_forward(const omni_conv2d_shape *s, const float *x, const float *w, const float *bias, float *y);
int omni_conv2d_backward_data(const omni_conv2d_shape *s, const float *w, const float *dy, float *dx);
/// Writes dw and (if non-NULL) dbias.
int omni_conv2d_backward_weights(const omni_conv2d_shape *s, const float *x, const float *dy, float *dw, float *dbias);

/// An inference convolution whose weights were reordered once into oneDNN's preferred layout.
/// Activations (input and output) are dense NHWC ([N, H, W, C] in memory). Post-ops run in order after the
/// bias: a clip to [clip_lo, clip_hi] (`has_clip`, ReLU6 is [0, 6]), then the addition of
/// `residual` (`has_residual`, NHWC with the output's shape). Thread-safe; free once.
typedef struct omni_conv2d_packed omni_conv2d_packed;
/// Copies and reorders `w` (OIHW / grouped as for omni_conv2d_forward) and `bias` (may be NULL);
/// `s->n` is a batch hint. Returns NULL on failure (see omni_dnnl_last_error).
omni_conv2d_packed *omni_conv2d_pack(const omni_conv2d_shape *s, const float *w, const float *bias,
                                     int has_clip, float clip_lo, float clip_hi, int has_residual);
/// Runs the convolution on a batch of `n` (the shape's other sizes are the packed ones).
int omni_conv2d_packed_forward(omni_conv2d_packed *p, int64_t n, const float *x, const float *residual, float *y);
void omni_conv2d_packed_free(omni_conv2d_packed *p);

/// An inference linear layer y[M, N] = act(x[M, K] · Wᵀ + bias) (+ residual[M, N]) whose weights
/// were reordered once into oneDNN's preferred layout; the activation and the residual addition run
/// as post-ops inside the matmul. Dense row-major x, y and residual. Thread-safe; free once.
typedef struct omni_linear_packed omni_linear_packed;
/// Activations a packed linear layer can fuse.
enum { OMNI_LINEAR_IDENTITY = 0, OMNI_LINEAR_RELU = 1, OMNI_LINEAR_GELU_ERF = 2, OMNI_LINEAR_GELU_TANH = 3,
       OMNI_LINEAR_SILU = 4, OMNI_LINEAR_TANH = 5, OMNI_LINEAR_SIGMOID = 6 };
/// Copies and reorders `w` ([N, K] row-major, PyTorch's Linear weight) and `bias` ([N], may be
/// NULL); `m_hint` is a typical row count (the layout oneDNN prefers may depend on it). NULL on
/// failure (see omni_dnnl_last_error).
omni_linear_packed *omni_linear_pack(int64_t n, int64_t k, const float *w, const float *bias, int activation,
                                     int has_residual, int64_t m_hint);
/// Runs the layer on `m` rows; `residual` is read only when the layer was packed with one.
int omni_linear_packed_forward(omni_linear_packed *p, int64_t m, const float *x, const float *residual, float *y);
void omni_linear_packed_free(omni_linear_packed *p);

// ---- pooling (pool.c) ------------------------------------------------------------------------
// 2-D pooling over dense [planes, H, W] (planes = N*C), PyTorch semantics in floor mode; the
// caller validates the window and computes the output size. Parallel over planes.
typedef struct {
    int64_t planes, h, w;     // input
    int64_t oh, ow;           // output spatial size (computed by the caller)
    int64_t kh, kw;           // window (unused by adaptive pooling)
    int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;  // dilation 1 = dense; avg pooling ignores it
} omni_pool2d_shape;
/// Max pooling, padding counts as -inf; indices[k] = h*W + w of the chosen input in its plane
/// (first maximum; NaN propagates).
void omni_max_pool2d_f32(const omni_pool2d_shape *s, const float *x, float *y, int64_t *indices);
/// dx = 0, then dx[plane, indices[k]] += dy[plane, k].
void omni_max_pool2d_backward_f32(const omni_pool2d_shape *s, const float *dy, const int64_t *indices, float *dx);
/// Average pooling; the divisor counts padded positions when count_include_pad is nonzero.
void omni_avg_pool2d_f32(const omni_pool2d_shape *s, int count_include_pad, const float *x, float *y);
void omni_avg_pool2d_backward_f32(const omni_pool2d_shape *s, int count_include_pad, const float *dy, float *dx);
/// Adaptive average pooling: output cell i averages rows [floor(i*H/OH), ceil((i+1)*H/OH)), likewise columns.
void omni_adaptive_avg_pool2d_f32(const omni_pool2d_shape *s, const float *x, float *y);
void omni_adaptive_avg_pool2d_backward_f32(const omni_pool2d_shape *s, const float *dy, float *dx);

// ---- images (OmniData; kernels in image.c) ------------------------------------------------------
// Pixels are interleaved HWC, 8-bit (uint8_t) or 16-bit (uint16_t, host order); 1 to 4 channels.
enum { OMNI_RESAMPLE_BOX = 0, OMNI_RESAMPLE_BILINEAR = 2, OMNI_RESAMPLE_BICUBIC = 3 };
/// Resizes w x h to ow x oh like Pillow's ImagingResample (antialiased when shrinking; 8-bit:
/// 22-bit fixed-point weights, horizontal pass first with an 8-bit intermediate). 0 on success,
/// -1 on bad arguments or allocation failure. Results do not depend on the thread count.
int omni_image_resample(int depth, const void *src, int64_t w, int64_t h, int64_t c,
                        void *dst, int64_t ow, int64_t oh, int filter);
/// In place: colour channels times alpha (Pillow's RGBA -> RGBa), or divided by it (unpremultiply = 1).
void omni_image_premultiply(int depth, int unpremultiply, int64_t pixels, int64_t c, void *data);
/// out = (uint8)(a + alpha * (b - a)) computed in float, clipped outside [0, 1] (Pillow's ImagingBlend).
void omni_image_blend_u8(const uint8_t *a, const uint8_t *b, float alpha, int64_t n, uint8_t *out);
/// ITU-R 601-2 luma in 16-bit fixed point (Pillow's L24): (r*19595 + g*38470 + b*7471 + 0x8000) >> 16.
void omni_image_luma_u8(const uint8_t *rgb, int64_t pixels, int64_t c, uint8_t *out);
/// In place on the first three channels: RGB -> HSV bytes, hue += shift (mod 256), -> RGB (Pillow's conversions).
void omni_image_shift_hue_u8(uint8_t *rgb, int64_t pixels, int64_t c, uint8_t shift);
/// dst[oy][ox] = src[ymap[oy]][xmap[ox]] for pixels of pixel_bytes bytes, or `fill` (one pixel)
/// where either index is negative. Crops, pads (every mode) and flips are such separable maps.
void omni_image_remap(int64_t pixel_bytes, const void *src, int64_t w, void *dst, int64_t ow, int64_t oh,
                      const int64_t *xmap, const int64_t *ymap, const void *fill);
/// HWC -> CHW float32, value / 255 (8-bit) or / 65535 (16-bit).
void omni_image_to_chw_f32(int depth, const void *src, int64_t h, int64_t w, int64_t c, float *out);

#ifdef __cplusplus
}
#endif
#endif
