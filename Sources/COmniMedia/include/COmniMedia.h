// COmniMedia: FFmpeg 5.1 glue for OmniData's audio and video decoding, and video encoding.
//
// The demux → decode → swresample / swscale loops live here, in C, behind a narrow API, so Swift
// calls a handful of functions and never touches FFmpeg's structs. Input comes from a file or from
// an in-memory buffer, both through a custom AVIOContext (so a fuzz target can feed bytes), and
// nothing else is ever opened: nested URLs that playlists or concat lists name are refused.
//
// Every entry point is bounded on bad input: the bytes FFmpeg may read to probe, the frame size,
// the number of video frames indexed, the number of audio samples decoded, and a wall-clock
// budget per call. Failures return -1 with a message in `err`; nothing is printed.
#ifndef COMNI_MEDIA_H
#define COMNI_MEDIA_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An opened container (opaque). Not thread-safe: use one per thread.
typedef struct omni_media omni_media;

/// Bounds on what a file may make the decoder do.
typedef struct {
    int64_t max_probe_bytes;    // bytes read to identify the format and streams (FFmpeg's probesize)
    int64_t max_analyze_us;     // stream time analysed to identify streams, microseconds
    int64_t max_frames;         // video frames a file may hold (the frame index is built up front)
    int64_t max_samples;        // decoded audio samples (frames × channels)
    int64_t max_pixels;         // width × height of a video frame
    int max_dimension;          // width or height of a video frame
    int max_channels;           // audio channels
    int decoder_threads;        // 0 lets FFmpeg choose
    double max_seconds;         // wall-clock budget of each call (open, index, decode), 0 = none
} omni_media_limits;

/// The defaults: 5 MB / 5 s probe, 2^20 frames, 2^30 samples, 16384-pixel sides, 2^27 pixels,
/// 1024 channels, 1 decoder thread, 120 s per call.
void omni_media_default_limits(omni_media_limits *limits);

/// What the container says (before any decoding). Strings are NUL-terminated, possibly truncated.
typedef struct {
    char format[64];            // demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mp3"
    double duration;            // seconds (container), -1 when unknown
    int64_t bit_rate;           // bits per second, 0 when unknown

    int video_stream;           // stream index, -1 when there is no video
    char video_codec[32];       // e.g. "h264", "vp9", "mpeg4"
    char pixel_format[32];      // e.g. "yuv420p"
    int width, height;
    int fps_num, fps_den;       // average frame rate (0/1 when unknown)
    int64_t declared_frames;    // frame count stored in the header, 0 when absent
    double video_duration;      // seconds, -1 when unknown

    int audio_stream;           // stream index, -1 when there is no audio
    char audio_codec[32];       // e.g. "mp3", "aac", "vorbis"
    int sample_rate, channels;
    double audio_duration;      // seconds, -1 when unknown
} omni_media_info;

/// Opens the file at `path` (read through stdio, never as a URL). `name` in messages is the
/// caller's. 0 on success; -1 with a message in err.
int omni_media_open_file(const char *path, const omni_media_limits *limits, omni_media **out,
                         char *err, size_t errlen);
/// Opens `size` bytes at `data`, which must stay valid until omni_media_close. `name_hint` (may be
/// NULL) is a file name whose extension helps format probing.
int omni_media_open_memory(const uint8_t *data, size_t size, const char *name_hint,
                           const omni_media_limits *limits, omni_media **out, char *err, size_t errlen);
void omni_media_close(omni_media *media);
void omni_media_get_info(const omni_media *media, omni_media_info *info);

/// Decodes the best audio stream to interleaved float32 at its own sample rate and channel count
/// (the first frame's; later format changes are converted to it by swresample). *samples is
/// malloc'ed (free with omni_media_free); *frames counts samples per channel.
int omni_media_decode_audio(omni_media *media, float **samples, int64_t *frames, int *channels,
                            int *sample_rate, char *err, size_t errlen);
void omni_media_free(void *p);

/// Reads every packet of the video stream (no decoding) and builds the frame index: one entry per
/// frame in presentation order. Fails on a read error, on more than max_frames frames, and when
/// the header declares more frames than the file holds (truncated). Idempotent.
int omni_media_index_video(omni_media *media, int64_t *frame_count, char *err, size_t errlen);
/// Presentation time of frame `index` in seconds from the first frame (after indexing).
double omni_media_frame_time(const omni_media *media, int64_t index);
/// Whether frames are addressed by timestamp (1; seeking to key frames is used) or, for streams
/// without timestamps, by decode order (0; reading back means decoding again from the start).
int omni_media_video_has_timestamps(const omni_media *media);
/// Decodes frame `index` (0-based, presentation order) as packed RGB24, width × height × 3 bytes
/// of the stream's size (a frame of another size is scaled to it). Reads in increasing order are
/// cheapest: the decoder runs forward and seeks ahead to the key frame before the target when
/// that skips work; reading backwards seeks back. 0 on success; -1 with a message in err.
int omni_media_read_video_frame(omni_media *media, int64_t index, uint8_t *rgb, size_t rgb_size,
                                char *err, size_t errlen);
/// The number of packets the decoder has been fed since opening (to test that seeking skips work).
int64_t omni_media_video_packets_decoded(const omni_media *media);

/// "5.1.x"-style FFmpeg version string.
const char *omni_media_ffmpeg_version(void);

// ---- encoding -----------------------------------------------------------------------------

/// Video codecs the writer offers (both are built into every FFmpeg; neither needs an external
/// library).
enum {
    /// FFV1 version 1 (RFC 9043) in Matroska (.mkv): lossless 8-bit RGB (bgr0 through FFV1's
    /// reversible colour transform), range coder, every frame a key frame. Decodes back to the
    /// exact RGB bytes, quickly (intra-only, no motion search).
    OMNI_VIDEO_CODEC_FFV1 = 0,
    /// MPEG-4 Part 2 in MP4 (.mp4): lossy 4:2:0 YUV (BT.601, limited range) at a fixed quantizer,
    /// a key frame every second, no B-frames. Small files most players open.
    OMNI_VIDEO_CODEC_MPEG4 = 1,
};

/// The highest frame rate the writer accepts (Matroska stores times in milliseconds).
#define OMNI_VIDEO_MAX_FPS 1000

/// What to encode.
typedef struct {
    int codec;                  // OMNI_VIDEO_CODEC_*
    int width, height;          // of every frame
    int fps;                    // frames per second, 1...OMNI_VIDEO_MAX_FPS
    int quantizer;              // MPEG-4: 1 (best) ... 31; ignored by FFV1
} omni_video_encode_options;

/// The constraints of `codec`: the largest side, whether sides must be even, the file extension
/// (without dot) and FFmpeg's encoder name. -1 for an unknown codec.
int omni_video_codec_limits(int codec, int *max_side, int *even_sides, const char **extension, const char **name);

/// A video file being written (opaque). Frames go to a temporary file beside the destination,
/// which becomes `path` (by rename) only when omni_video_writer_finish succeeds. The output is
/// deterministic: the same frames and options give the same bytes (bit-exact mode, one thread,
/// no random IDs, no creation time, no version strings).
typedef struct omni_video_writer omni_video_writer;

/// Checks the options (size against the codec's limits, fps, quantizer), opens the encoder and
/// the muxer, creates the temporary file and writes the header. 0 on success; -1 with a message
/// in err (nothing is left on disk).
int omni_video_writer_open(const char *path, const omni_video_encode_options *options, omni_video_writer **out,
                           char *err, size_t errlen);
/// Encodes one packed RGB24 frame of width × height × 3 bytes. After a failure only
/// omni_video_writer_abort is allowed.
int omni_video_writer_add_rgb(omni_video_writer *writer, const uint8_t *rgb, size_t rgb_size, char *err, size_t errlen);
/// Flushes the encoder, finishes the container, fsyncs, renames the file into place and frees the
/// writer (also on failure, when the temporary file is removed). Fails when no frame was added.
int omni_video_writer_finish(omni_video_writer *writer, char *err, size_t errlen);
/// Frees a writer that will not be finished and removes its temporary file.
void omni_video_writer_abort(omni_video_writer *writer);

#ifdef __cplusplus
}
#endif
#endif
