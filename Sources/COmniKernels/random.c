// Bulk uniform draws from xoshiro256** (the same sequence as Generator.next() in Swift), so that
// initialising large models does not make one closure call per value.
#include "COmniKernels.h"

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void omni_xoshiro_uniform_f32(uint64_t state[4], float *out, int64_t n, double low, double span, float top) {
    uint64_t s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
    for (int64_t i = 0; i < n; i++) {
        uint64_t result = rotl64(s1 * 5, 7) * 9;
        uint64_t t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
        s2 ^= t;
        s3 = rotl64(s3, 45);
        double u = (double)(result >> 11) * 0x1.0p-53;
        float v = (float)(low + span * u);
        out[i] = v < top ? v : top;
    }
    state[0] = s0; state[1] = s1; state[2] = s2; state[3] = s3;
}
