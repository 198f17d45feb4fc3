// Indexing kernels: index-select / index-add along an axis, gather / scatter-add.
// Indices are validated in Swift before these run.
#include "internal.h"

void omni_index_select(int es, int64_t outer, int64_t n, int64_t inner, const void *x,
                       const int64_t *idx, int64_t nidx, void *out) {
    const char *xs = (const char *)x;
    char *ys = (char *)out;
    size_t row = (size_t)(inner * es);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < nidx; j++)
            memcpy(ys + (o * nidx + j) * row, xs + (o * n + idx[j]) * row, row);
}

void omni_index_add_f32(int64_t outer, int64_t n, int64_t inner, float *out,
                        const int64_t *idx, int64_t nidx, const float *src) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < nidx; j++) {
            float *d = out + (o * n + idx[j]) * inner;
            const float *s = src + (o * nidx + j) * inner;
            for (int64_t i = 0; i < inner; i++) d[i] += s[i];
        }
}

void omni_gather_f32(int64_t outer, int64_t n, int64_t inner, const float *x,
                     int64_t m, const int64_t *idx, float *out) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < m; j++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = (o * m + j) * inner + i;
                out[k] = x[(o * n + idx[k]) * inner + i];
            }
}

void omni_scatter_add_f32(int64_t outer, int64_t n, int64_t inner, float *out,
                          int64_t m, const int64_t *idx, const float *src) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < m; j++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = (o * m + j) * inner + i;
                out[(o * n + idx[k]) * inner + i] += src[k];
            }
}

void omni_gemm_u8s8s32_ref(int64_t M, int64_t N, int64_t K, const uint8_t *a, int32_t a_zero,
                           const int8_t *b, int32_t *c) {
    for (int64_t i = 0; i < M; i++) {
        int32_t *row = c + i * N;
        for (int64_t j = 0; j < N; j++) row[j] = 0;
        for (int64_t k = 0; k < K; k++) {
            int32_t av = (int32_t)a[i * K + k] - a_zero;
            const int8_t *br = b + k * N;
            for (int64_t j = 0; j < N; j++) row[j] += av * (int32_t)br[j];
        }
    }
}
