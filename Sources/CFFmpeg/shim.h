// FFmpeg 5.1 (Debian libavformat-dev, libavcodec-dev, libswscale-dev, libswresample-dev,
// libavutil-dev) for Swift. Swift cannot import function-like macros, so the error codes that
// FFmpeg builds with AVERROR / FFERRTAG come back through static inline functions.
#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H
#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

/// AVERROR(e): a POSIX errno as an FFmpeg error code.
static inline int omni_averror(int e) { return AVERROR(e); }
/// AVERROR_EOF: end of file (demuxer) or end of stream (decoder).
static inline int omni_averror_eof(void) { return AVERROR_EOF; }
/// AVERROR(EAGAIN): the decoder needs input, or has output to drain first.
static inline int omni_averror_eagain(void) { return AVERROR(EAGAIN); }
/// AVERROR_INVALIDDATA: the input is malformed.
static inline int omni_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
/// AV_NOPTS_VALUE: no timestamp.
static inline int64_t omni_av_nopts_value(void) { return AV_NOPTS_VALUE; }
/// AV_TIME_BASE: FFmpeg's internal time unit per second (microseconds).
static inline int omni_av_time_base(void) { return AV_TIME_BASE; }

#endif
