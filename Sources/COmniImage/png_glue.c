// libpng behind setjmp: see COmniImage.h. Every object touched after setjmp lives on the heap
// or is volatile, so its value is defined when libpng's error handler longjmps back here.
#include "COmniImage.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;  // reading: the whole file
    size_t size, pos;
    uint8_t *buf;         // writing: the growing output
    size_t len, cap;
    char *err;
    size_t errlen;
} io_state;

static void set_err(io_state *s, const char *msg) {
    if (s->err && s->errlen) snprintf(s->err, s->errlen, "%s", msg);
}

static void on_error(png_structp png, png_const_charp msg) {
    set_err((io_state *)png_get_error_ptr(png), msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void on_read(png_structp png, png_bytep out, size_t n) {
    io_state *s = png_get_io_ptr(png);
    if (n > s->size - s->pos) png_error(png, "unexpected end of data (truncated PNG)");
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

static void on_write(png_structp png, png_bytep in, size_t n) {
    io_state *s = png_get_io_ptr(png);
    if (n > s->cap - s->len) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap - s->len < n) {
            if (cap > SIZE_MAX / 2) png_error(png, "encoded PNG too large");
            cap *= 2;
        }
        uint8_t *p = realloc(s->buf, cap);
        if (!p) png_error(png, "out of memory");
        s->buf = p;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, in, n);
    s->len += n;
}

static void on_flush(png_structp png) { (void)png; }

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/// Asks libpng for the output layout described in COmniImage.h and reports it.
static void configure(png_structp png, png_infop info, omni_png_info *out) {
    png_uint_32 w = 0, h = 0;
    int depth = 0, ctype = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    out->color_type = ctype;
    out->interlaced = interlace != PNG_INTERLACE_NONE;
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);  // with a tRNS chunk this also adds alpha
    } else if (depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);  // scales 1/2/4-bit gray to 0...255; ignores tRNS
    }
    if (depth == 16 && host_is_little_endian()) png_set_swap(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->channels = png_get_channels(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
}

static int begin_read(io_state *s, const uint8_t *data, size_t size, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->data = data;
    s->size = size;
    s->err = err;
    s->errlen = errlen;
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        set_err(s, "not a PNG file (bad signature)");
        return -1;
    }
    return 0;
}

/// Allocates the reader state and libpng's read and info structs for `data`; on failure reports
/// into `err` and leaves nothing allocated. (setjmp must stay in the callers: it has to be armed
/// in the frame that is still live when libpng longjmps.)
static int open_reader(const uint8_t *data, size_t size, char *err, size_t errlen,
                       io_state **s_out, png_structp *png_out, png_infop *info_out) {
    io_state *s = calloc(1, sizeof *s);
    if (!s) { if (err && errlen) snprintf(err, errlen, "out of memory"); return -1; }
    if (begin_read(s, data, size, err, errlen) != 0) { free(s); return -1; }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        set_err(s, "cannot create a libpng reader");
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(s);
        return -1;
    }
    *s_out = s;
    *png_out = png;
    *info_out = info;
    return 0;
}

int omni_png_read_info(const uint8_t *data, size_t size, omni_png_info *info_out, char *err, size_t errlen) {
    io_state *s;
    png_structp png;
    png_infop info;
    if (open_reader(data, size, err, errlen, &s, &png, &info) != 0) return -1;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(s);
        return -1;
    }
    png_set_read_fn(png, s, on_read);
    png_read_info(png, info);
    configure(png, info, info_out);
    png_destroy_read_struct(&png, &info, NULL);
    free(s);
    return 0;
}

int omni_png_decode(const uint8_t *data, size_t size, const omni_png_info *expected, void *out,
                    size_t out_size, char *err, size_t errlen) {
    io_state *s;
    png_structp png;
    png_infop info;
    if (open_reader(data, size, err, errlen, &s, &png, &info) != 0) return -1;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        free(s);
        return -1;
    }
    png_set_read_fn(png, s, on_read);
    png_read_info(png, info);
    omni_png_info got;
    configure(png, info, &got);
    if (got.width != expected->width || got.height != expected->height || got.channels != expected->channels ||
        got.bit_depth != expected->bit_depth) {
        png_error(png, "header changed between reads");
    }
    size_t rowbytes = png_get_rowbytes(png, info);
    size_t want = (size_t)got.width * (size_t)got.channels * (size_t)(got.bit_depth / 8);
    if (rowbytes != want || out_size / rowbytes != got.height || out_size % rowbytes != 0) {
        png_error(png, "output buffer does not match the image size");
    }
    rows = malloc((size_t)got.height * sizeof(png_bytep));
    if (!rows) png_error(png, "out of memory");
    for (uint32_t y = 0; y < got.height; y++) rows[y] = (png_bytep)out + (size_t)y * rowbytes;
    png_read_image(png, rows);
    // Chunks after the image data (and a missing IEND) are not read: the pixels are complete.
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(s);
    return 0;
}

int omni_png_encode(const void *pixels, uint32_t width, uint32_t height, int channels, int bit_depth,
                    int compression_level, uint8_t **out, size_t *out_size, char *err, size_t errlen) {
    static const int types[5] = { -1, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                  PNG_COLOR_TYPE_RGB_ALPHA };
    *out = NULL;
    *out_size = 0;
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) || width == 0 || height == 0) {
        if (err && errlen) snprintf(err, errlen, "unsupported layout for PNG");
        return -1;
    }
    io_state *s = calloc(1, sizeof *s);
    if (!s) { if (err && errlen) snprintf(err, errlen, "out of memory"); return -1; }
    s->err = err;
    s->errlen = errlen;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        set_err(s, "cannot create a libpng writer");
        png_destroy_write_struct(png ? &png : NULL, NULL);
        free(s);
        return -1;
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(s->buf);
        png_destroy_write_struct(&png, &info);
        free(s);
        return -1;
    }
    png_set_write_fn(png, s, on_write, on_flush);
    png_set_IHDR(png, info, width, height, bit_depth, types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (compression_level >= 0 && compression_level <= 9) png_set_compression_level(png, compression_level);
    png_write_info(png, info);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);
    size_t rowbytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    rows = malloc((size_t)height * sizeof(png_bytep));
    if (!rows) png_error(png, "out of memory");
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)pixels + (size_t)y * rowbytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = s->buf;
    *out_size = s->len;
    free(s);
    return 0;
}

void omni_png_free(void *p) { free(p); }
