// COmniDICOM: a small C API over GDCM 3.0 (C++), so that Swift never sees C++ (DESIGN.md §4).
//
// Every function catches every C++ exception and reports it as an error code plus a message; no
// exception crosses into the caller. Handles are not thread-safe: use one handle from one thread at a
// time (different handles on different threads are fine).
#ifndef COMNI_DICOM_H
#define COMNI_DICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes returned by the functions below (0 is success).
enum {
    OMNI_DICOM_OK = 0,
    OMNI_DICOM_ERR_IO = 1,           ///< the file cannot be opened, read or written
    OMNI_DICOM_ERR_EMPTY = 2,        ///< zero bytes
    OMNI_DICOM_ERR_NOT_DICOM = 3,    ///< no "DICM" marker and no plausible data set at the start
    OMNI_DICOM_ERR_CORRUPT = 4,      ///< the data set cannot be parsed (truncated or corrupt)
    OMNI_DICOM_ERR_NO_PIXELS = 5,    ///< no (usable) Pixel Data element
    OMNI_DICOM_ERR_UNSUPPORTED = 6,  ///< a pixel format or transfer syntax this shim does not decode
    OMNI_DICOM_ERR_TOO_LARGE = 7,    ///< a size above the caller's limit (checked before allocating)
    OMNI_DICOM_ERR_DECODE = 8,       ///< the pixel data does not decode
    OMNI_DICOM_ERR_MEMORY = 9,       ///< allocation failed
    OMNI_DICOM_ERR_ARGUMENT = 10,    ///< a bad argument from the caller (null pointer, wrong size)
    OMNI_DICOM_ERR_INTERNAL = 11,    ///< any other exception inside GDCM
};

typedef struct omni_dicom omni_dicom;

/// The image attributes GDCM derives from the data set (stored values, before decoding).
typedef struct {
    int32_t has_pixels;              ///< 1 when the data set holds an image GDCM can read
    uint32_t rows, columns, frames;
    uint32_t samples_per_pixel;
    uint32_t bits_allocated, bits_stored, high_bit;
    uint32_t pixel_representation;   ///< 0 unsigned, 1 two's complement
    uint32_t planar_configuration;   ///< 0 interleaved (R1G1B1…), 1 planar (R…G…B…)
    char photometric[32];            ///< e.g. "MONOCHROME2", "RGB", "YBR_FULL_422"
    double slope, intercept;         ///< Modality LUT rescale (1 and 0 when absent)
    int32_t lossy;                   ///< 1 when the pixel data went through lossy compression
} omni_dicom_image_info;

/// Opens the DICOM file at `path` (at most `max_file_bytes` bytes are read; a larger file is
/// OMNI_DICOM_ERR_TOO_LARGE). On success `*out` owns the parsed data set; free it with
/// omni_dicom_close. On failure `*out` is NULL and `err` (capacity `err_cap`) holds a message.
int omni_dicom_open_file(const char *path, uint64_t max_file_bytes, omni_dicom **out, char *err, size_t err_cap);

/// Parses a DICOM file held in memory (the bytes are copied; the buffer may be freed afterwards).
int omni_dicom_open_memory(const void *data, size_t size, omni_dicom **out, char *err, size_t err_cap);

/// Frees a handle (NULL is fine).
void omni_dicom_close(omni_dicom *handle);

/// The transfer syntax UID of the data set ("" when unknown); owned by the handle.
const char *omni_dicom_transfer_syntax_uid(const omni_dicom *handle);

/// The transfer syntax's name from the DICOM dictionary, e.g. "JPEG Baseline (Process 1)".
const char *omni_dicom_transfer_syntax_name(const omni_dicom *handle);

/// Fills `info` with the image attributes. Never fails; `has_pixels` is 0 without an image.
void omni_dicom_image_info_get(const omni_dicom *handle, omni_dicom_image_info *info);

/// Writes the value of the top-level element (group, element) as text (multiple values joined with
/// a backslash, trailing padding removed) into `buf` (NUL-terminated, truncated to `cap` - 1 bytes).
/// Group 0x0002 reads the file meta information. Returns the full text length, or -1 when absent.
int64_t omni_dicom_get_string(const omni_dicom *handle, uint16_t group, uint16_t element, char *buf, size_t cap);

/// Writes up to `cap` top-level tags ((group << 16) | element, file meta first) into `tags`;
/// returns how many there are in all.
size_t omni_dicom_tags(const omni_dicom *handle, uint32_t *tags, size_t cap);

/// Whether (group, element) is present in the top-level data set or in any nested sequence item.
int32_t omni_dicom_contains_anywhere(const omni_dicom *handle, uint16_t group, uint16_t element);

/// The `index`-th occurrence (depth-first, from 0) of (group, element) anywhere in the data set,
/// nested sequence items included, as omni_dicom_get_string gives it. Returns the full text length,
/// or -1 when there are not that many occurrences.
int64_t omni_dicom_get_string_anywhere(const omni_dicom *handle, uint16_t group, uint16_t element, size_t index,
                                       char *buf, size_t cap);

/// Whether any private (odd-group) element is present anywhere, nested items included.
int32_t omni_dicom_has_private_anywhere(const omni_dicom *handle);

/// How the decoded pixels came out.
typedef struct {
    char photometric[32];            ///< after decoding and any YBR→RGB conversion
    uint32_t bytes_per_sample;       ///< 1, 2 or 4 (1-bit data is unpacked to one byte per pixel)
    int32_t converted_ybr;           ///< 1 when YBR_FULL / YBR_FULL_422 was converted to RGB here
} omni_dicom_decoded_info;

/// Decodes every frame into `dst`, laid out [frames, rows, columns, samples] (samples interleaved,
/// native byte order, one byte per pixel for 1-bit data). `dst_size` must be exactly
/// frames*rows*columns*samples*bytes_per_sample where bytes_per_sample is ceil(bits_allocated/8)
/// (1 for 1-bit data); a decoded size above `max_bytes` is OMNI_DICOM_ERR_TOO_LARGE, checked before
/// anything is allocated. With `convert_ybr`, 8-bit YBR_FULL and YBR_FULL_422 become RGB the way
/// pydicom converts them by default.
int omni_dicom_decode(omni_dicom *handle, int32_t convert_ybr, uint64_t max_bytes, void *dst, size_t dst_size,
                      omni_dicom_decoded_info *info, char *err, size_t err_cap);

/// One de-identification rule: apply `action` to every (group, element) in the data set, nested
/// sequence items included. `group_mask` 0xFF00 makes the rule match a repeating group such as
/// 50xx or 60xx (0xFFFF otherwise); `element_mask` 0 matches every element (0xFFFF otherwise). Actions: 'X' remove, 'Z' empty, 'D' dummy value consistent with
/// the VR (sequences are kept and their items cleaned), 'U' new UID (the same new UID for the same
/// old one everywhere in the file), 'K' keep (sequences are cleaned).
typedef struct {
    uint16_t group, element, group_mask, element_mask;
    char action;
} omni_dicom_rule;

/// De-identifies the data set in place: applies `rules` everywhere, removes every private element,
/// then sets Patient Identity Removed (0012,0062) to YES, De-identification Method (0012,0063) to
/// `method` and the De-identification Method Code Sequence (0012,0064) to DCM 113100. The file
/// meta Media Storage SOP Instance UID follows the new SOP Instance UID. Pixel Data is untouched.
int omni_dicom_deidentify(omni_dicom *handle, const omni_dicom_rule *rules, size_t count, const char *method,
                          char *err, size_t err_cap);

/// Serialises the (possibly de-identified) file into a malloc'd buffer `*out` of `*size` bytes;
/// free it with omni_dicom_free_buffer.
int omni_dicom_write_memory(omni_dicom *handle, void **out, size_t *size, char *err, size_t err_cap);

void omni_dicom_free_buffer(void *buffer);

// ---- sample conversions (plain loops, compiled with optimisation even in debug builds) ----------

/// Stored sample types.
enum { OMNI_DICOM_U8 = 0, OMNI_DICOM_I8 = 1, OMNI_DICOM_U16 = 2, OMNI_DICOM_I16 = 3, OMNI_DICOM_U32 = 4, OMNI_DICOM_I32 = 5 };

/// Widens `count` samples of `type` to int64 (exact for every type).
void omni_dicom_widen_i64(const void *src, int32_t type, size_t count, int64_t *dst);

/// Widens `count` samples of `type` to int32 (exact for every type but U32).
void omni_dicom_widen_i32(const void *src, int32_t type, size_t count, int32_t *dst);

/// dst = float(double(sample) * slope + intercept): the Modality LUT's linear rescale, computed in
/// double like pydicom's apply_modality_lut and rounded once to float32.
void omni_dicom_rescale_f32(const void *src, int32_t type, size_t count, double slope, double intercept, float *dst);

/// The VOI LUT linear function of PS3.3 C.11.2.1.2.1 to 8 bits (round half up), optionally inverted
/// (MONOCHROME1): x <= c - 0.5 - (w-1)/2 → 0; x > c - 0.5 + (w-1)/2 → 255; else
/// ((x - (c - 0.5)) / (w - 1) + 0.5) * 255. `width` must be >= 1.
void omni_dicom_window_u8(const float *src, size_t count, double center, double width, int32_t invert, uint8_t *dst);

#ifdef __cplusplus
}
#endif

#endif
