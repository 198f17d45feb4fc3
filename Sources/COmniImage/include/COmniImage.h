// COmniImage: libpng glue for OmniData.
//
// libpng reports errors by longjmp, which Swift cannot catch, so every libpng call runs here
// behind setjmp and failures come back as a status plus a message. The full API is used (not
// png_image_*) because the simplified API converts 16-bit data to linear light and applies gAMA
// chunks, while Omni (like Pillow) returns the stored sample values.
#ifndef COMNI_IMAGE_H
#define COMNI_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A PNG's size and the layout it decodes to: palettes expand to RGB (RGBA with a tRNS chunk),
/// gray below 8 bits scales to 8 bits, 16-bit samples stay 16-bit (host byte order).
typedef struct {
    uint32_t width, height;
    int channels;     // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int bit_depth;    // 8 or 16
    int color_type;   // as stored (PNG_COLOR_TYPE_*)
    int interlaced;   // 1 for Adam7
} omni_png_info;

/// Reads the header. 0 on success; otherwise -1 and a message in err.
int omni_png_read_info(const uint8_t *data, size_t size, omni_png_info *info, char *err, size_t errlen);
/// Decodes into out (width * height * channels samples of bit_depth bits; out_size bytes).
/// Refuses (-1) when the header differs from `expected`, so the caller's buffer always fits.
int omni_png_decode(const uint8_t *data, size_t size, const omni_png_info *expected, void *out,
                    size_t out_size, char *err, size_t errlen);
/// Encodes 8- or 16-bit (host order) interleaved pixels; *out is malloc'ed (free with omni_png_free).
int omni_png_encode(const void *pixels, uint32_t width, uint32_t height, int channels, int bit_depth,
                    int compression_level, uint8_t **out, size_t *out_size, char *err, size_t errlen);
void omni_png_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
