// FFmpeg behind a narrow API: see COmniMedia.h.
#include "COmniMedia.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#define IO_BUFFER_SIZE 32768

/// The bytes behind the AVIOContext: a stdio file or a caller's buffer.
typedef struct {
    FILE *fp;
    const uint8_t *data;
    int64_t size, pos;
} io_source;

struct omni_media {
    omni_media_limits limits;
    io_source src;
    AVIOContext *avio;
    AVFormatContext *fmt;
    double deadline;            // CLOCK_MONOTONIC seconds; 0 = none
    int dirty;                  // packets were read since opening (a fresh decode must rewind)
    int video_index, audio_index;

    // video decoding state
    AVCodecContext *vdec;
    AVFrame *frame;             // the last frame the decoder returned (kept for repeated reads)
    int have_frame;
    int64_t frame_key;          // its pts (timestamp mode) or ordinal (decode-order mode)
    AVFrame *scratch;
    AVPacket *pkt;
    int demux_eof, decoder_eof, started;
    int64_t ordinal;            // frames returned since the last rewind (decode-order mode)
    int seek_unreliable;        // a seek landed after its target: only rewind to the start
    int64_t packets_decoded;
    struct SwsContext *sws;

    // the frame index
    int indexed;
    int timestamps;             // 1: keys are pts; 0: keys are decode-order ordinals
    int64_t count;
    int64_t *keys;              // [count] sorted presentation keys
    int64_t *sync_keys;         // [sync_count] keys of key frames, sorted
    int64_t sync_count;
    int64_t first_pts;
    double time_base;           // seconds per pts tick
    double frame_period;        // seconds per frame (decode-order mode)
};

// ---- errors and time ----------------------------------------------------------------------

static int fail(char *err, size_t errlen, const char *format, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(err, errlen, format, ap);
        va_end(ap);
    }
    return -1;
}

static const char *av_message(int code, char *buf, size_t len) {
    av_strerror(code, buf, len);
    return buf;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void start_clock(omni_media *m) {
    m->deadline = m->limits.max_seconds > 0 ? now_seconds() + m->limits.max_seconds : 0;
}

static int out_of_time(const omni_media *m) { return m->deadline > 0 && now_seconds() > m->deadline; }

static int interrupt_cb(void *opaque) { return out_of_time((const omni_media *)opaque); }

static int time_error(const omni_media *m, char *err, size_t errlen) {
    return fail(err, errlen, "took longer than the %.0f s limit (corrupt or pathological input)",
                m->limits.max_seconds);
}

// ---- I/O ----------------------------------------------------------------------------------

static int io_read(void *opaque, uint8_t *buf, int size) {
    io_source *s = opaque;
    if (s->fp) {
        size_t n = fread(buf, 1, (size_t)size, s->fp);
        if (n == 0) return ferror(s->fp) ? AVERROR(EIO) : AVERROR_EOF;
        s->pos += (int64_t)n;
        return (int)n;
    }
    int64_t left = s->size - s->pos;
    if (left <= 0) return AVERROR_EOF;
    int n = left < size ? (int)left : size;
    memcpy(buf, s->data + s->pos, (size_t)n);
    s->pos += n;
    return n;
}

static int64_t io_seek(void *opaque, int64_t offset, int whence) {
    io_source *s = opaque;
    if (whence & AVSEEK_SIZE) return s->size;
    whence &= ~AVSEEK_FORCE;
    int64_t target;
    switch (whence) {
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = s->pos + offset; break;
    case SEEK_END: target = s->size + offset; break;
    default: return AVERROR(EINVAL);
    }
    if (target < 0) return AVERROR(EINVAL);
    if (s->fp && fseeko(s->fp, (off_t)target, SEEK_SET) != 0) return AVERROR(errno);
    s->pos = target;
    return target;
}

/// Demuxers such as hls, concat and dash open further URLs the file names; Omni reads only the
/// one file or buffer it was given.
static int deny_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                        AVDictionary **options) {
    (void)s; (void)pb; (void)url; (void)flags; (void)options;
    return AVERROR(EPERM);
}

// ---- opening ------------------------------------------------------------------------------

void omni_media_default_limits(omni_media_limits *l) {
    l->max_probe_bytes = 5000000;
    l->max_analyze_us = 5000000;
    l->max_frames = (int64_t)1 << 20;
    l->max_samples = (int64_t)1 << 30;
    l->max_pixels = (int64_t)1 << 27;
    l->max_dimension = 16384;
    l->max_channels = 1024;
    l->decoder_threads = 1;
    l->max_seconds = 120;
}

static int usable_video(const AVStream *st) {
    return st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC);
}

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

/// FFmpeg logs to stderr by default; Omni reports failures through its own errors instead.
static void make_quiet(void) { av_log_set_level(AV_LOG_QUIET); }

static int open_common(omni_media *m, const char *name, char *err, size_t errlen) {
    pthread_once(&quiet_once, make_quiet);
    start_clock(m);
    char msg[AV_ERROR_MAX_STRING_SIZE];
    unsigned char *buffer = av_malloc(IO_BUFFER_SIZE);
    if (!buffer) return fail(err, errlen, "out of memory");
    m->avio = avio_alloc_context(buffer, IO_BUFFER_SIZE, 0, &m->src, io_read, NULL, io_seek);
    if (!m->avio) { av_free(buffer); return fail(err, errlen, "out of memory"); }
    m->fmt = avformat_alloc_context();
    if (!m->fmt) return fail(err, errlen, "out of memory");
    m->fmt->pb = m->avio;
    m->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    m->fmt->probesize = m->limits.max_probe_bytes > 32 ? m->limits.max_probe_bytes : 32;
    m->fmt->format_probesize = (int)(m->fmt->probesize < (1 << 20) ? m->fmt->probesize : (1 << 20));
    m->fmt->max_analyze_duration = m->limits.max_analyze_us;
    m->fmt->interrupt_callback.callback = interrupt_cb;
    m->fmt->interrupt_callback.opaque = m;
    m->fmt->io_open = deny_io_open;
    m->fmt->max_streams = 64;
    int ret = avformat_open_input(&m->fmt, name ? name : "", NULL, NULL);
    if (ret < 0) {
        m->fmt = NULL;  // freed by avformat_open_input
        if (out_of_time(m)) return time_error(m, err, errlen);
        return fail(err, errlen, "not a readable audio or video file (%s)", av_message(ret, msg, sizeof msg));
    }
    ret = avformat_find_stream_info(m->fmt, NULL);
    if (ret < 0) {
        if (out_of_time(m)) return time_error(m, err, errlen);
        return fail(err, errlen, "cannot read stream information (%s)", av_message(ret, msg, sizeof msg));
    }
    m->video_index = -1;
    for (unsigned i = 0; i < m->fmt->nb_streams; i++) {
        if (usable_video(m->fmt->streams[i])) { m->video_index = (int)i; break; }
    }
    ret = av_find_best_stream(m->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    m->audio_index = ret >= 0 ? ret : -1;
    if (m->video_index < 0 && m->audio_index < 0) {
        return fail(err, errlen, "no audio or video stream (format %s)", m->fmt->iformat->name);
    }
    return 0;
}

static omni_media *media_new(const omni_media_limits *limits) {
    omni_media *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    if (limits) m->limits = *limits; else omni_media_default_limits(&m->limits);
    m->video_index = m->audio_index = -1;
    return m;
}

int omni_media_open_file(const char *path, const omni_media_limits *limits, omni_media **out,
                         char *err, size_t errlen) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return fail(err, errlen, "cannot open (%s)", strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return fail(err, errlen, "not a regular file");
    }
    if (st.st_size == 0) { fclose(fp); return fail(err, errlen, "empty file"); }
    omni_media *m = media_new(limits);
    if (!m) { fclose(fp); return fail(err, errlen, "out of memory"); }
    m->src.fp = fp;
    m->src.size = (int64_t)st.st_size;
    if (open_common(m, path, err, errlen) != 0) { omni_media_close(m); return -1; }
    *out = m;
    return 0;
}

int omni_media_open_memory(const uint8_t *data, size_t size, const char *name_hint,
                           const omni_media_limits *limits, omni_media **out, char *err, size_t errlen) {
    *out = NULL;
    if (size == 0 || !data) return fail(err, errlen, "empty file");
    omni_media *m = media_new(limits);
    if (!m) return fail(err, errlen, "out of memory");
    m->src.data = data;
    m->src.size = (int64_t)size;
    if (open_common(m, name_hint, err, errlen) != 0) { omni_media_close(m); return -1; }
    *out = m;
    return 0;
}

void omni_media_close(omni_media *m) {
    if (!m) return;
    sws_freeContext(m->sws);
    av_frame_free(&m->frame);
    av_frame_free(&m->scratch);
    av_packet_free(&m->pkt);
    avcodec_free_context(&m->vdec);
    if (m->fmt) avformat_close_input(&m->fmt);
    if (m->avio) {
        av_freep(&m->avio->buffer);
        avio_context_free(&m->avio);
    }
    if (m->src.fp) fclose(m->src.fp);
    free(m->keys);
    free(m->sync_keys);
    free(m);
}

void omni_media_free(void *p) { free(p); }

const char *omni_media_ffmpeg_version(void) { return av_version_info(); }

static double seconds(int64_t t, AVRational tb) {
    return t == AV_NOPTS_VALUE ? -1 : (double)t * av_q2d(tb);
}

static void copy_name(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src ? src : "");
}

void omni_media_get_info(const omni_media *m, omni_media_info *info) {
    memset(info, 0, sizeof *info);
    copy_name(info->format, sizeof info->format, m->fmt->iformat->name);
    info->duration = m->fmt->duration == AV_NOPTS_VALUE ? -1 : (double)m->fmt->duration / AV_TIME_BASE;
    info->bit_rate = m->fmt->bit_rate;
    info->video_stream = m->video_index;
    info->audio_stream = m->audio_index;
    info->fps_den = 1;
    info->video_duration = info->audio_duration = -1;
    if (m->video_index >= 0) {
        const AVStream *st = m->fmt->streams[m->video_index];
        const AVCodecParameters *p = st->codecpar;
        copy_name(info->video_codec, sizeof info->video_codec, avcodec_get_name(p->codec_id));
        copy_name(info->pixel_format, sizeof info->pixel_format,
                  av_get_pix_fmt_name((enum AVPixelFormat)p->format));
        info->width = p->width;
        info->height = p->height;
        AVRational r = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
        if (r.num > 0 && r.den > 0) { info->fps_num = r.num; info->fps_den = r.den; }
        info->declared_frames = st->nb_frames;
        info->video_duration = seconds(st->duration, st->time_base);
    }
    if (m->audio_index >= 0) {
        const AVStream *st = m->fmt->streams[m->audio_index];
        const AVCodecParameters *p = st->codecpar;
        copy_name(info->audio_codec, sizeof info->audio_codec, avcodec_get_name(p->codec_id));
        info->sample_rate = p->sample_rate;
        info->channels = p->ch_layout.nb_channels;
        info->audio_duration = seconds(st->duration, st->time_base);
    }
}

// ---- decoding helpers ---------------------------------------------------------------------

static int open_decoder(omni_media *m, int stream, AVCodecContext **out, char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    const AVStream *st = m->fmt->streams[stream];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) {
        return fail(err, errlen, "no decoder for codec %s in this FFmpeg build",
                    avcodec_get_name(st->codecpar->codec_id));
    }
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    if (!ctx) return fail(err, errlen, "out of memory");
    int ret = avcodec_parameters_to_context(ctx, st->codecpar);
    if (ret < 0) {
        avcodec_free_context(&ctx);
        return fail(err, errlen, "bad codec parameters (%s)", av_message(ret, msg, sizeof msg));
    }
    ctx->pkt_timebase = st->time_base;
    ctx->thread_count = m->limits.decoder_threads;
    ctx->max_pixels = m->limits.max_pixels;
    ret = avcodec_open2(ctx, codec, NULL);
    if (ret < 0) {
        avcodec_free_context(&ctx);
        return fail(err, errlen, "cannot open the %s decoder (%s)", codec->name, av_message(ret, msg, sizeof msg));
    }
    *out = ctx;
    return 0;
}

/// Back to the start of the file, for a second pass (after indexing, or to read backwards
/// without timestamps).
static int rewind_input(omni_media *m, int stream, char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    const AVStream *st = m->fmt->streams[stream];
    int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    int ret = av_seek_frame(m->fmt, stream, start, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) ret = av_seek_frame(m->fmt, stream, INT64_MIN / 2, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY);
    if (ret < 0) ret = av_seek_frame(m->fmt, -1, 0, AVSEEK_FLAG_BYTE);
    if (ret < 0) return fail(err, errlen, "cannot seek back to the start (%s)", av_message(ret, msg, sizeof msg));
    return 0;
}

// ---- audio --------------------------------------------------------------------------------

typedef struct {
    float *data;
    int64_t frames, capacity;   // in frames
    int channels, rate;
    AVChannelLayout layout;
    SwrContext *swr;
    enum AVSampleFormat in_format;
    int in_rate;
    AVChannelLayout in_layout;
} audio_sink;

static int sink_reserve(audio_sink *s, int64_t more, const omni_media *m, char *err, size_t errlen) {
    int64_t need = s->frames + more;
    if (need * s->channels > m->limits.max_samples) {
        return fail(err, errlen, "decodes to more than %" PRId64 " samples (the limit)", m->limits.max_samples);
    }
    if (need <= s->capacity) return 0;
    int64_t cap = s->capacity ? s->capacity : 16384;
    while (cap < need) cap *= 2;
    if (cap * s->channels > m->limits.max_samples) cap = m->limits.max_samples / s->channels;
    float *p = realloc(s->data, (size_t)cap * (size_t)s->channels * sizeof(float));
    if (!p) return fail(err, errlen, "out of memory for %" PRId64 " audio frames", cap);
    s->data = p;
    s->capacity = cap;
    return 0;
}

/// Converts one decoded frame (or, with frame NULL, flushes swresample) into the sink.
static int sink_frame(audio_sink *s, const AVFrame *frame, const omni_media *m, char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    if (frame) {
        if (frame->ch_layout.nb_channels <= 0 || frame->sample_rate <= 0) {
            return fail(err, errlen, "decoded audio without channels or sample rate");
        }
        if (frame->ch_layout.nb_channels > m->limits.max_channels) {
            return fail(err, errlen, "implausible channel count %d", frame->ch_layout.nb_channels);
        }
        if (frame->sample_rate > 10000000) return fail(err, errlen, "implausible sample rate %d", frame->sample_rate);
        if (!s->swr) {
            s->channels = frame->ch_layout.nb_channels;
            s->rate = frame->sample_rate;
            if (av_channel_layout_copy(&s->layout, &frame->ch_layout) < 0) return fail(err, errlen, "out of memory");
        }
        int changed = !s->swr || frame->format != (int)s->in_format || frame->sample_rate != s->in_rate
                      || av_channel_layout_compare(&frame->ch_layout, &s->in_layout) != 0;
        if (changed) {
            if (s->swr) {
                // drain what the old configuration still holds before switching
                int ret = sink_frame(s, NULL, m, err, errlen);
                if (ret < 0) return ret;
                swr_free(&s->swr);
            }
            int ret = swr_alloc_set_opts2(&s->swr, &s->layout, AV_SAMPLE_FMT_FLT, s->rate,
                                          (AVChannelLayout *)&frame->ch_layout, (enum AVSampleFormat)frame->format,
                                          frame->sample_rate, 0, NULL);
            if (ret >= 0) ret = swr_init(s->swr);
            if (ret < 0) return fail(err, errlen, "cannot convert the decoded audio (%s)", av_message(ret, msg, sizeof msg));
            s->in_format = (enum AVSampleFormat)frame->format;
            s->in_rate = frame->sample_rate;
            av_channel_layout_uninit(&s->in_layout);
            if (av_channel_layout_copy(&s->in_layout, &frame->ch_layout) < 0) return fail(err, errlen, "out of memory");
        }
    }
    if (!s->swr) return 0;
    int in_count = frame ? frame->nb_samples : 0;
    int out_max = swr_get_out_samples(s->swr, in_count);
    if (out_max < 0) return fail(err, errlen, "cannot convert the decoded audio");
    if (out_max == 0) return 0;
    if (sink_reserve(s, out_max, m, err, errlen) < 0) return -1;
    uint8_t *dst = (uint8_t *)(s->data + s->frames * s->channels);
    int got = swr_convert(s->swr, &dst, out_max, frame ? (const uint8_t **)frame->extended_data : NULL, in_count);
    if (got < 0) return fail(err, errlen, "cannot convert the decoded audio (%s)", av_message(got, msg, sizeof msg));
    s->frames += got;
    return 0;
}

static int drain_audio(AVCodecContext *ctx, AVFrame *frame, audio_sink *s, const omni_media *m,
                       char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    for (;;) {
        int ret = avcodec_receive_frame(ctx, frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0) return fail(err, errlen, "corrupt audio data (%s)", av_message(ret, msg, sizeof msg));
        ret = sink_frame(s, frame, m, err, errlen);
        av_frame_unref(frame);
        if (ret < 0) return -1;
    }
}

int omni_media_decode_audio(omni_media *m, float **samples, int64_t *frames, int *channels,
                            int *sample_rate, char *err, size_t errlen) {
    *samples = NULL;
    *frames = 0;
    *channels = *sample_rate = 0;
    start_clock(m);
    char msg[AV_ERROR_MAX_STRING_SIZE];
    if (m->audio_index < 0) return fail(err, errlen, "no audio stream (format %s)", m->fmt->iformat->name);
    const AVCodecParameters *par = m->fmt->streams[m->audio_index]->codecpar;
    if (par->ch_layout.nb_channels > m->limits.max_channels) {
        return fail(err, errlen, "implausible channel count %d", par->ch_layout.nb_channels);
    }
    if (m->dirty && rewind_input(m, m->audio_index, err, errlen) < 0) return -1;
    m->dirty = 1;
    AVCodecContext *ctx = NULL;
    if (open_decoder(m, m->audio_index, &ctx, err, errlen) < 0) return -1;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    audio_sink sink = {0};
    int status = -1;
    if (!pkt || !frame) { fail(err, errlen, "out of memory"); goto done; }
    for (;;) {
        if (out_of_time(m)) { time_error(m, err, errlen); goto done; }
        int ret = av_read_frame(m->fmt, pkt);
        if (ret == AVERROR_EOF) break;
        if (ret < 0) {
            if (out_of_time(m)) { time_error(m, err, errlen); goto done; }
            fail(err, errlen, "read error (%s)", av_message(ret, msg, sizeof msg));
            goto done;
        }
        if (pkt->stream_index != m->audio_index) { av_packet_unref(pkt); continue; }
        ret = avcodec_send_packet(ctx, pkt);
        av_packet_unref(pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN)) {
            fail(err, errlen, "corrupt audio data at %.3f s (%s)", (double)sink.frames / (sink.rate ? sink.rate : 1),
                 av_message(ret, msg, sizeof msg));
            goto done;
        }
        if (drain_audio(ctx, frame, &sink, m, err, errlen) < 0) goto done;
    }
    avcodec_send_packet(ctx, NULL);
    if (drain_audio(ctx, frame, &sink, m, err, errlen) < 0) goto done;
    if (sink_frame(&sink, NULL, m, err, errlen) < 0) goto done;
    if (sink.frames == 0) { fail(err, errlen, "no audio frames decoded (empty or truncated)"); goto done; }
    *samples = sink.data;
    sink.data = NULL;
    *frames = sink.frames;
    *channels = sink.channels;
    *sample_rate = sink.rate;
    status = 0;
done:
    free(sink.data);
    swr_free(&sink.swr);
    av_channel_layout_uninit(&sink.layout);
    av_channel_layout_uninit(&sink.in_layout);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return status;
}

// ---- video: the frame index ---------------------------------------------------------------

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int push(int64_t **arr, int64_t *count, int64_t *cap, int64_t v) {
    if (*count == *cap) {
        int64_t c = *cap ? *cap * 2 : 1024;
        int64_t *p = realloc(*arr, (size_t)c * sizeof(int64_t));
        if (!p) return -1;
        *arr = p;
        *cap = c;
    }
    (*arr)[(*count)++] = v;
    return 0;
}

static int check_frame_size(const omni_media *m, int w, int h, char *err, size_t errlen) {
    if (w <= 0 || h <= 0) return fail(err, errlen, "video frame size %dx%d is unknown or invalid", w, h);
    if (w > m->limits.max_dimension || h > m->limits.max_dimension || (int64_t)w * h > m->limits.max_pixels) {
        return fail(err, errlen, "implausible video frame size %dx%d (limits: %d per side, %" PRId64 " pixels)",
                    w, h, m->limits.max_dimension, m->limits.max_pixels);
    }
    return 0;
}

int omni_media_index_video(omni_media *m, int64_t *frame_count, char *err, size_t errlen) {
    *frame_count = 0;
    if (m->indexed) { *frame_count = m->count; return 0; }
    start_clock(m);
    char msg[AV_ERROR_MAX_STRING_SIZE];
    if (m->video_index < 0) return fail(err, errlen, "no video stream (format %s)", m->fmt->iformat->name);
    const AVStream *st = m->fmt->streams[m->video_index];
    if (check_frame_size(m, st->codecpar->width, st->codecpar->height, err, errlen) < 0) return -1;
    if (m->dirty && rewind_input(m, m->video_index, err, errlen) < 0) return -1;
    m->dirty = 1;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt) return fail(err, errlen, "out of memory");
    int64_t *pts = NULL, *sync = NULL, n = 0, cap = 0, ns = 0, scap = 0, missing = 0, last_dts = AV_NOPTS_VALUE;
    int status = -1;
    for (;;) {
        if (out_of_time(m)) { time_error(m, err, errlen); goto done; }
        int ret = av_read_frame(m->fmt, pkt);
        if (ret == AVERROR_EOF) break;
        if (ret < 0) {
            if (out_of_time(m)) { time_error(m, err, errlen); goto done; }
            fail(err, errlen, "read error after %" PRId64 " video frames (%s)", n, av_message(ret, msg, sizeof msg));
            goto done;
        }
        if (pkt->stream_index == m->video_index && !(pkt->flags & AV_PKT_FLAG_DISCARD) && pkt->size > 0) {
            if (n >= m->limits.max_frames) {
                av_packet_unref(pkt);
                fail(err, errlen, "more than %" PRId64 " video frames (the limit)", m->limits.max_frames);
                goto done;
            }
            if (pkt->pts == AV_NOPTS_VALUE) missing++;
            if (push(&pts, &n, &cap, pkt->pts) < 0) { av_packet_unref(pkt); fail(err, errlen, "out of memory"); goto done; }
            if ((pkt->flags & AV_PKT_FLAG_KEY) && pkt->pts != AV_NOPTS_VALUE && push(&sync, &ns, &scap, pkt->pts) < 0) {
                av_packet_unref(pkt);
                fail(err, errlen, "out of memory");
                goto done;
            }
            if (pkt->dts != AV_NOPTS_VALUE) last_dts = pkt->dts;
        }
        av_packet_unref(pkt);
    }
    (void)last_dts;
    if (n == 0) { fail(err, errlen, "no video frames (empty or truncated)"); goto done; }
    if (st->nb_frames > 0 && n < st->nb_frames) {
        fail(err, errlen, "truncated: the header declares %" PRId64 " video frames, the file holds %" PRId64,
             st->nb_frames, n);
        goto done;
    }
    m->time_base = av_q2d(st->time_base);
    AVRational r = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
    m->frame_period = r.num > 0 && r.den > 0 ? (double)r.den / r.num : 0;
    if (missing == 0) {
        m->timestamps = 1;
        qsort(pts, (size_t)n, sizeof *pts, cmp_i64);
        if (ns > 0) qsort(sync, (size_t)ns, sizeof *sync, cmp_i64);
        m->first_pts = pts[0];
        m->keys = pts;
        m->sync_keys = sync;
        m->sync_count = ns;
        pts = sync = NULL;
    } else {
        // No timestamps: frames are numbered in decode order and only the start is a seek target.
        m->timestamps = 0;
        for (int64_t i = 0; i < n; i++) pts[i] = i;
        m->keys = pts;
        pts = NULL;
        m->first_pts = 0;
    }
    m->count = n;
    m->indexed = 1;
    *frame_count = n;
    status = 0;
done:
    free(pts);
    free(sync);
    av_packet_free(&pkt);
    return status;
}

double omni_media_frame_time(const omni_media *m, int64_t index) {
    if (!m->indexed || index < 0 || index >= m->count) return -1;
    if (m->timestamps) return (double)(m->keys[index] - m->first_pts) * m->time_base;
    return (double)index * m->frame_period;
}

int omni_media_video_has_timestamps(const omni_media *m) { return m->timestamps; }

int64_t omni_media_video_packets_decoded(const omni_media *m) { return m->packets_decoded; }

// ---- video: decoding frames ---------------------------------------------------------------

/// The largest key-frame key at or before `key` (the first frame's key when none is).
static int64_t sync_before(const omni_media *m, int64_t key) {
    if (!m->timestamps || m->sync_count == 0) return m->keys[0];
    int64_t lo = 0, hi = m->sync_count - 1, best = -1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (m->sync_keys[mid] <= key) { best = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return best < 0 ? m->keys[0] : m->sync_keys[best];
}

static int seek_video(omni_media *m, int64_t sync_key, char *err, size_t errlen) {
    int to_start = !m->timestamps || m->seek_unreliable || sync_key <= m->keys[0];
    int ret = -1;
    if (!to_start) ret = av_seek_frame(m->fmt, m->video_index, sync_key, AVSEEK_FLAG_BACKWARD);
    if (ret < 0 && rewind_input(m, m->video_index, err, errlen) < 0) return -1;
    avcodec_flush_buffers(m->vdec);
    m->demux_eof = m->decoder_eof = 0;
    m->have_frame = 0;
    m->ordinal = 0;
    m->started = 1;
    return 0;
}

/// The next frame out of the decoder into m->scratch: 1 a frame, 0 end of stream, -1 error.
static int next_frame(omni_media *m, char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    for (;;) {
        if (out_of_time(m)) return time_error(m, err, errlen);
        if (m->decoder_eof) return 0;
        int ret = avcodec_receive_frame(m->vdec, m->scratch);
        if (ret >= 0) return 1;
        if (ret == AVERROR_EOF) { m->decoder_eof = 1; return 0; }
        if (ret != AVERROR(EAGAIN)) return fail(err, errlen, "corrupt video data (%s)", av_message(ret, msg, sizeof msg));
        if (m->demux_eof) return 0;  // the decoder has been flushed and wants nothing more
        for (;;) {
            ret = av_read_frame(m->fmt, m->pkt);
            if (ret == AVERROR_EOF) {
                m->demux_eof = 1;
                ret = avcodec_send_packet(m->vdec, NULL);
                break;
            }
            if (ret < 0) {
                if (out_of_time(m)) return time_error(m, err, errlen);
                return fail(err, errlen, "read error (%s)", av_message(ret, msg, sizeof msg));
            }
            if (m->pkt->stream_index != m->video_index) { av_packet_unref(m->pkt); continue; }
            ret = avcodec_send_packet(m->vdec, m->pkt);
            av_packet_unref(m->pkt);
            m->packets_decoded++;
            break;
        }
        if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) {
            return fail(err, errlen, "corrupt video data (%s)", av_message(ret, msg, sizeof msg));
        }
    }
}

static int sws_colorspace(enum AVColorSpace cs) {
    switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default: return SWS_CS_DEFAULT;  // BT.601 (also for BT470BG, SMPTE170M, unspecified)
    }
}

/// m->frame → packed RGB24 at the stream's size. The YUV→RGB matrix and range follow the frame's
/// tags (BT.601 limited range when untagged), bilinear chroma upsampling, as PyAV's to_ndarray.
static int convert_rgb(omni_media *m, uint8_t *rgb, size_t rgb_size, char *err, size_t errlen) {
    const AVCodecParameters *p = m->fmt->streams[m->video_index]->codecpar;
    int w = p->width, h = p->height;
    if ((size_t)w * (size_t)h * 3 != rgb_size) return fail(err, errlen, "RGB buffer of %zu bytes for %dx%d", rgb_size, w, h);
    const AVFrame *f = m->frame;
    if (check_frame_size(m, f->width, f->height, err, errlen) < 0) return -1;
    m->sws = sws_getCachedContext(m->sws, f->width, f->height, (enum AVPixelFormat)f->format, w, h,
                                  AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
    if (!m->sws) {
        return fail(err, errlen, "cannot convert %s frames to RGB",
                    av_get_pix_fmt_name((enum AVPixelFormat)f->format) ? av_get_pix_fmt_name((enum AVPixelFormat)f->format) : "?");
    }
    int full_range = f->color_range == AVCOL_RANGE_JPEG;
    const int *coefficients = sws_getCoefficients(sws_colorspace(f->colorspace));
    int *inv = NULL, *table = NULL, src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    if (sws_getColorspaceDetails(m->sws, &inv, &src_range, &table, &dst_range, &brightness, &contrast, &saturation) >= 0) {
        // yuvj* formats already imply full range; keep swscale's choice for them.
        const char *name = av_get_pix_fmt_name((enum AVPixelFormat)f->format);
        if (name && strncmp(name, "yuvj", 4) != 0) src_range = full_range;
        sws_setColorspaceDetails(m->sws, coefficients, src_range, table, 1, brightness, contrast, saturation);
    }
    uint8_t *dst[4] = {rgb, NULL, NULL, NULL};
    int stride[4] = {w * 3, 0, 0, 0};
    int rows = sws_scale(m->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    if (rows != h) return fail(err, errlen, "RGB conversion produced %d of %d rows", rows, h);
    return 0;
}

int omni_media_read_video_frame(omni_media *m, int64_t index, uint8_t *rgb, size_t rgb_size,
                                char *err, size_t errlen) {
    start_clock(m);
    if (!m->indexed) {
        int64_t n;
        if (omni_media_index_video(m, &n, err, errlen) < 0) return -1;
        start_clock(m);
    }
    if (index < 0 || index >= m->count) return fail(err, errlen, "frame %" PRId64 " is out of range 0..<%" PRId64, index, m->count);
    if (!m->vdec) {
        if (open_decoder(m, m->video_index, &m->vdec, err, errlen) < 0) return -1;
        m->frame = av_frame_alloc();
        m->scratch = av_frame_alloc();
        m->pkt = av_packet_alloc();
        if (!m->frame || !m->scratch || !m->pkt) return fail(err, errlen, "out of memory");
    }
    int64_t target = m->keys[index];
    if (m->have_frame && m->frame_key == target) return convert_rgb(m, rgb, rgb_size, err, errlen);
    int64_t sync = sync_before(m, target);
    int need_seek = !m->started || (m->have_frame && target < m->frame_key) || (!m->have_frame && m->demux_eof);
    if (!need_seek && m->timestamps && !m->seek_unreliable && m->have_frame && sync > m->frame_key) need_seek = 1;
    int just_seeked = 0;
    if (need_seek) {
        if (seek_video(m, sync, err, errlen) < 0) return -1;
        just_seeked = 1;
    }
    for (;;) {
        int got = next_frame(m, err, errlen);
        if (got < 0) return -1;
        if (got == 0) {
            return fail(err, errlen, "frame %" PRId64 " of %" PRId64 " could not be decoded (corrupt or truncated)",
                        index, m->count);
        }
        int64_t key;
        if (m->timestamps) {
            key = m->scratch->best_effort_timestamp;
            if (key == AV_NOPTS_VALUE) key = m->scratch->pts;
            if (key == AV_NOPTS_VALUE) { av_frame_unref(m->scratch); continue; }
        } else {
            key = m->ordinal++;
        }
        if (just_seeked && key > target && m->timestamps && !m->seek_unreliable) {
            // The demuxer landed after the key frame it was asked for: from now on only the start
            // is trusted as a seek target, and this read starts over from there.
            av_frame_unref(m->scratch);
            m->seek_unreliable = 1;
            if (seek_video(m, m->keys[0], err, errlen) < 0) return -1;
            continue;
        }
        just_seeked = 0;
        av_frame_unref(m->frame);
        av_frame_move_ref(m->frame, m->scratch);
        m->have_frame = 1;
        m->frame_key = key;
        if (key >= target) break;
    }
    return convert_rgb(m, rgb, rgb_size, err, errlen);
}
