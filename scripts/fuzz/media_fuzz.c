// libFuzzer target for COmniMedia (FFmpeg demux → decode → swscale/swresample): every input is
// opened from memory, its video indexed and four frames decoded (last, first, middle, last again:
// seeking back and forth), then its audio decoded. Build and run with scripts/fuzz/run-media-fuzz.
#include "COmniMedia.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    omni_media_limits limits;
    omni_media_default_limits(&limits);
    limits.max_seconds = 5;
    limits.max_frames = 4096;
    char err[256];
    omni_media *m;
    if (omni_media_open_memory(data, size, "fuzz", &limits, &m, err, sizeof err) != 0) return 0;
    omni_media_info info;
    omni_media_get_info(m, &info);
    int64_t n;
    if (info.video_stream >= 0 && omni_media_index_video(m, &n, err, sizeof err) == 0) {
        size_t bytes = (size_t)info.width * (size_t)info.height * 3;
        uint8_t *rgb = malloc(bytes);
        int64_t order[4] = {n - 1, 0, n / 2, n - 1};
        for (int i = 0; rgb && i < 4; i++) {
            if (omni_media_read_video_frame(m, order[i], rgb, bytes, err, sizeof err) != 0) break;
        }
        free(rgb);
    }
    omni_media_close(m);
    if (omni_media_open_memory(data, size, "fuzz", &limits, &m, err, sizeof err) != 0) return 0;
    float *samples;
    int64_t frames;
    int channels, rate;
    if (omni_media_decode_audio(m, &samples, &frames, &channels, &rate, err, sizeof err) == 0) omni_media_free(samples);
    omni_media_close(m);
    return 0;
}
