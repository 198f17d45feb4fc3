// Video encoding through FFmpeg: see the omni_video_writer part of COmniMedia.h.
//
// RGB24 frames → swscale → the encoder's pixel format → libavcodec → libavformat → a temporary
// file beside the destination (written through stdio via a custom AVIOContext, so a path is
// never read as a URL) → fsync → rename → fsync of the directory. Every output is bit-exact
// (AVFMT_FLAG_BITEXACT, AV_CODEC_FLAG_BITEXACT, one encoder thread): no random segment or track
// UIDs, no creation time, no library version strings, so the same frames give the same bytes.
#include "COmniMedia.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#define IO_BUFFER_SIZE 65536

struct omni_video_writer {
    char *path;                 // the destination
    char *temporary;            // the file being written; renamed to path by finish
    FILE *fp;
    int io_errno;               // errno of the first failed write, seek or flush (0 = none)
    AVIOContext *avio;
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *stream;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    int width, height;
    int quantizer;              // MPEG-4 only; 0 for FFV1
    int64_t frames;             // frames sent to the encoder
    int failed;                 // an earlier step failed: only abort is allowed
};

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

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static void make_quiet(void) { av_log_set_level(AV_LOG_QUIET); }

int omni_video_codec_limits(int codec, int *max_side, int *even_sides, const char **extension, const char **name) {
    switch (codec) {
    case OMNI_VIDEO_CODEC_FFV1:
        *max_side = 16384; *even_sides = 0; *extension = "mkv"; *name = "ffv1";
        return 0;
    case OMNI_VIDEO_CODEC_MPEG4:
        // MPEG-4 Part 2 codes width and height in 13 bits; 4:2:0 chroma wants even sides.
        *max_side = 8190; *even_sides = 1; *extension = "mp4"; *name = "mpeg4";
        return 0;
    default:
        return -1;
    }
}

// ---- output I/O ---------------------------------------------------------------------------

static int io_write(void *opaque, uint8_t *buf, int size) {
    omni_video_writer *w = opaque;
    if (size <= 0) return 0;
    if (fwrite(buf, 1, (size_t)size, w->fp) != (size_t)size) {
        if (!w->io_errno) w->io_errno = errno ? errno : EIO;
        return AVERROR(w->io_errno);
    }
    return size;
}

static int64_t io_seek(void *opaque, int64_t offset, int whence) {
    omni_video_writer *w = opaque;
    if (whence & AVSEEK_SIZE) {
        struct stat st;
        if (fflush(w->fp) != 0 || fstat(fileno(w->fp), &st) != 0) return AVERROR(errno ? errno : EIO);
        return (int64_t)st.st_size;
    }
    whence &= ~AVSEEK_FORCE;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return AVERROR(EINVAL);
    if (fseeko(w->fp, (off_t)offset, whence) != 0) {
        if (!w->io_errno) w->io_errno = errno ? errno : EIO;
        return AVERROR(w->io_errno);
    }
    off_t at = ftello(w->fp);
    return at < 0 ? AVERROR(errno) : (int64_t)at;
}

/// Creates a new, unique file beside `path` (O_EXCL; the mode follows the umask, as fopen's).
static FILE *create_temporary(omni_video_writer *w, char *err, size_t errlen) {
    static atomic_uint counter;
    size_t len = strlen(w->path) + 64;
    w->temporary = malloc(len);
    if (!w->temporary) { fail(err, errlen, "out of memory"); return NULL; }
    char *copy = strdup(w->path);
    if (!copy) { fail(err, errlen, "out of memory"); return NULL; }
    char *base = basename(copy);
    size_t dir_len = strlen(w->path) - strlen(base);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = atomic_fetch_add(&counter, 1);
        snprintf(w->temporary, len, "%.*s.%s.tmp-%ld-%u", (int)dir_len, w->path, base, (long)getpid(), n);
        int fd = open(w->temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            int e = errno;
            free(copy);
            free(w->temporary);
            w->temporary = NULL;  // nothing was created
            fail(err, errlen, "cannot create a file in the destination folder (%s)", strerror(e));
            return NULL;
        }
        free(copy);
        FILE *fp = fdopen(fd, "wb");
        if (!fp) {
            close(fd);
            fail(err, errlen, "out of memory");
            return NULL;
        }
        return fp;
    }
    free(copy);
    free(w->temporary);
    w->temporary = NULL;
    fail(err, errlen, "cannot create a unique temporary file beside the destination");
    return NULL;
}

/// Frees everything; removes the temporary file when it is still there.
static void writer_free(omni_video_writer *w) {
    if (!w) return;
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    avcodec_free_context(&w->enc);
    avformat_free_context(w->fmt);   // also frees the stream; pb is ours (custom I/O)
    if (w->avio) {
        av_freep(&w->avio->buffer);
        avio_context_free(&w->avio);
    }
    if (w->fp) fclose(w->fp);
    if (w->temporary) unlink(w->temporary);
    free(w->temporary);
    free(w->path);
    free(w);
}

// ---- opening ------------------------------------------------------------------------------

static int open_encoder(omni_video_writer *w, const omni_video_encode_options *o, const char *codec_name,
                        char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    enum AVCodecID id = o->codec == OMNI_VIDEO_CODEC_FFV1 ? AV_CODEC_ID_FFV1 : AV_CODEC_ID_MPEG4;
    const AVCodec *codec = avcodec_find_encoder(id);
    if (!codec) return fail(err, errlen, "this FFmpeg build has no %s encoder", codec_name);
    AVCodecContext *c = w->enc = avcodec_alloc_context3(codec);
    if (!c) return fail(err, errlen, "out of memory");
    c->width = o->width;
    c->height = o->height;
    c->time_base = (AVRational){1, o->fps};
    c->framerate = (AVRational){o->fps, 1};
    c->sample_aspect_ratio = (AVRational){1, 1};
    c->thread_count = 1;                        // bit-exact output independent of the machine
    c->flags |= AV_CODEC_FLAG_BITEXACT;         // no encoder version strings in the stream
    if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (o->codec == OMNI_VIDEO_CODEC_FFV1) {
        // 8-bit RGB in FFV1 is bgr0, coded losslessly through its reversible colour transform.
        c->pix_fmt = AV_PIX_FMT_0RGB32;
        c->colorspace = AVCOL_SPC_RGB;
        c->color_range = AVCOL_RANGE_JPEG;
        // FFV1 version 1 (RFC 9043): one slice per frame, range coder. FFmpeg 5.1's version 3
        // encoder loses pixels in frames with a side of 1 (its slices degenerate), version 1
        // round-trips every size exactly.
        c->level = 1;
        c->gop_size = 1;                        // every frame is a key frame: exact random access
        av_opt_set(c->priv_data, "coder", "range_def", 0);
    } else {
        // 4:2:0 YUV, BT.601 limited range (swscale's default matrix, and what readers assume
        // for untagged streams), fixed quantizer, a key frame every second, no B-frames.
        c->pix_fmt = AV_PIX_FMT_YUV420P;
        c->colorspace = AVCOL_SPC_SMPTE170M;
        c->color_primaries = AVCOL_PRI_SMPTE170M;
        c->color_trc = AVCOL_TRC_SMPTE170M;
        c->color_range = AVCOL_RANGE_MPEG;
        c->gop_size = o->fps;
        c->max_b_frames = 0;
        c->flags |= AV_CODEC_FLAG_QSCALE;
        c->global_quality = FF_QP2LAMBDA * o->quantizer;
        w->quantizer = o->quantizer;
    }
    int ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) {
        return fail(err, errlen, "the %s encoder refuses %dx%d frames at %d fps (%s)", codec_name, o->width,
                    o->height, o->fps, av_message(ret, msg, sizeof msg));
    }
    return 0;
}

int omni_video_writer_open(const char *path, const omni_video_encode_options *o, omni_video_writer **out,
                           char *err, size_t errlen) {
    pthread_once(&quiet_once, make_quiet);
    *out = NULL;
    char msg[AV_ERROR_MAX_STRING_SIZE];
    int max_side, even;
    const char *extension, *codec_name;
    if (omni_video_codec_limits(o->codec, &max_side, &even, &extension, &codec_name) < 0) {
        return fail(err, errlen, "unknown video codec %d", o->codec);
    }
    if (o->width <= 0 || o->height <= 0 || o->width > max_side || o->height > max_side) {
        return fail(err, errlen, "frame size %dx%d is outside 1...%d per side for %s", o->width, o->height,
                    max_side, codec_name);
    }
    if (even && (o->width % 2 || o->height % 2)) {
        return fail(err, errlen, "%s needs even frame sides, got %dx%d", codec_name, o->width, o->height);
    }
    if (o->fps < 1 || o->fps > OMNI_VIDEO_MAX_FPS) {
        return fail(err, errlen, "fps %d is outside 1...%d", o->fps, OMNI_VIDEO_MAX_FPS);
    }
    if (o->codec == OMNI_VIDEO_CODEC_MPEG4 && (o->quantizer < 1 || o->quantizer > 31)) {
        return fail(err, errlen, "MPEG-4 quantizer %d is outside 1...31", o->quantizer);
    }
    if (!path || !*path) return fail(err, errlen, "empty output path");
    struct stat existing;
    if (stat(path, &existing) == 0 && S_ISDIR(existing.st_mode)) return fail(err, errlen, "is a directory");

    omni_video_writer *w = calloc(1, sizeof *w);
    if (!w) return fail(err, errlen, "out of memory");
    w->width = o->width;
    w->height = o->height;
    w->path = strdup(path);
    if (!w->path) { writer_free(w); return fail(err, errlen, "out of memory"); }

    const char *muxer = o->codec == OMNI_VIDEO_CODEC_FFV1 ? "matroska" : "mp4";
    const AVOutputFormat *format = av_guess_format(muxer, NULL, NULL);
    if (!format) { writer_free(w); return fail(err, errlen, "this FFmpeg build has no %s muxer", muxer); }
    int ret = avformat_alloc_output_context2(&w->fmt, format, NULL, NULL);
    if (ret < 0 || !w->fmt) { w->fmt = NULL; writer_free(w); return fail(err, errlen, "out of memory"); }
    w->fmt->flags |= AVFMT_FLAG_BITEXACT | AVFMT_FLAG_CUSTOM_IO;

    if (open_encoder(w, o, codec_name, err, errlen) < 0) { writer_free(w); return -1; }
    w->stream = avformat_new_stream(w->fmt, NULL);
    if (!w->stream) { writer_free(w); return fail(err, errlen, "out of memory"); }
    ret = avcodec_parameters_from_context(w->stream->codecpar, w->enc);
    if (ret < 0) { writer_free(w); return fail(err, errlen, "bad codec parameters (%s)", av_message(ret, msg, sizeof msg)); }
    w->stream->time_base = w->enc->time_base;   // a hint: the muxer picks its own (1/1000 in Matroska)
    w->stream->avg_frame_rate = w->enc->framerate;
    w->stream->sample_aspect_ratio = w->enc->sample_aspect_ratio;

    w->frame = av_frame_alloc();
    w->pkt = av_packet_alloc();
    if (!w->frame || !w->pkt) { writer_free(w); return fail(err, errlen, "out of memory"); }
    w->frame->format = w->enc->pix_fmt;
    w->frame->width = o->width;
    w->frame->height = o->height;
    ret = av_frame_get_buffer(w->frame, 0);
    if (ret < 0) { writer_free(w); return fail(err, errlen, "out of memory for a %dx%d frame", o->width, o->height); }
    // RGB → bgr0 is a byte shuffle; RGB → YUV 4:2:0 uses BT.601 limited range (swscale's default).
    w->sws = sws_getContext(o->width, o->height, AV_PIX_FMT_RGB24, o->width, o->height, w->enc->pix_fmt,
                            SWS_BILINEAR | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!w->sws) {
        writer_free(w);
        return fail(err, errlen, "cannot convert RGB to %s", av_get_pix_fmt_name(w->enc->pix_fmt));
    }

    w->fp = create_temporary(w, err, errlen);
    if (!w->fp) { writer_free(w); return -1; }
    unsigned char *buffer = av_malloc(IO_BUFFER_SIZE);
    if (!buffer) { writer_free(w); return fail(err, errlen, "out of memory"); }
    w->avio = avio_alloc_context(buffer, IO_BUFFER_SIZE, 1, w, NULL, io_write, io_seek);
    if (!w->avio) { av_free(buffer); writer_free(w); return fail(err, errlen, "out of memory"); }
    w->avio->seekable = AVIO_SEEKABLE_NORMAL;
    w->fmt->pb = w->avio;
    ret = avformat_write_header(w->fmt, NULL);
    if (ret < 0) {
        if (w->io_errno) fail(err, errlen, "write error (%s)", strerror(w->io_errno));
        else fail(err, errlen, "cannot write the %s header (%s)", muxer, av_message(ret, msg, sizeof msg));
        writer_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

// ---- frames -------------------------------------------------------------------------------

/// Writes out every packet the encoder has ready.
static int drain(omni_video_writer *w, char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    for (;;) {
        int ret = avcodec_receive_packet(w->enc, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0) return fail(err, errlen, "encoding failed (%s)", av_message(ret, msg, sizeof msg));
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->stream->time_base);
        w->pkt->stream_index = w->stream->index;
        ret = av_interleaved_write_frame(w->fmt, w->pkt);   // takes the packet's reference
        if (ret < 0 || w->io_errno) {
            if (w->io_errno) return fail(err, errlen, "write error (%s)", strerror(w->io_errno));
            return fail(err, errlen, "cannot write a packet (%s)", av_message(ret, msg, sizeof msg));
        }
    }
}

int omni_video_writer_add_rgb(omni_video_writer *w, const uint8_t *rgb, size_t rgb_size, char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    if (w->failed) return fail(err, errlen, "the writer has already failed");
    if (rgb_size != (size_t)w->width * (size_t)w->height * 3) {
        return fail(err, errlen, "frame %" PRId64 " has %zu bytes, a %dx%d RGB frame has %zu", w->frames, rgb_size,
                    w->width, w->height, (size_t)w->width * (size_t)w->height * 3);
    }
    w->failed = 1;
    int ret = av_frame_make_writable(w->frame);   // the encoder may still hold the previous frame
    if (ret < 0) return fail(err, errlen, "out of memory");
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    int stride[4] = {w->width * 3, 0, 0, 0};
    int rows = sws_scale(w->sws, src, stride, 0, w->height, w->frame->data, w->frame->linesize);
    if (rows != w->height) return fail(err, errlen, "RGB conversion produced %d of %d rows", rows, w->height);
    w->frame->pts = w->frames;
    w->frame->pict_type = AV_PICTURE_TYPE_NONE;
    if (w->quantizer) w->frame->quality = w->enc->global_quality;
    ret = avcodec_send_frame(w->enc, w->frame);
    if (ret < 0) return fail(err, errlen, "encoding frame %" PRId64 " failed (%s)", w->frames, av_message(ret, msg, sizeof msg));
    w->frames++;
    if (drain(w, err, errlen) < 0) return -1;
    w->failed = 0;
    return 0;
}

/// Makes the rename of a file in the directory of `path` durable.
static void sync_directory(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

int omni_video_writer_finish(omni_video_writer *w, char *err, size_t errlen) {
    char msg[AV_ERROR_MAX_STRING_SIZE];
    int status = -1;
    if (w->failed) { fail(err, errlen, "the writer has already failed"); goto done; }
    if (w->frames == 0) { fail(err, errlen, "no frames to write"); goto done; }
    int ret = avcodec_send_frame(w->enc, NULL);
    if (ret < 0) { fail(err, errlen, "flushing the encoder failed (%s)", av_message(ret, msg, sizeof msg)); goto done; }
    if (drain(w, err, errlen) < 0) goto done;
    ret = av_write_trailer(w->fmt);
    if (ret < 0 || w->io_errno) {
        if (w->io_errno) fail(err, errlen, "write error (%s)", strerror(w->io_errno));
        else fail(err, errlen, "cannot finish the file (%s)", av_message(ret, msg, sizeof msg));
        goto done;
    }
    avio_flush(w->avio);
    if (w->io_errno || w->avio->error < 0) {
        fail(err, errlen, "write error (%s)", w->io_errno ? strerror(w->io_errno) : av_message(w->avio->error, msg, sizeof msg));
        goto done;
    }
    if (fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0) { fail(err, errlen, "write error (%s)", strerror(errno)); goto done; }
    FILE *fp = w->fp;
    w->fp = NULL;
    if (fclose(fp) != 0) { fail(err, errlen, "write error (%s)", strerror(errno)); goto done; }
    if (rename(w->temporary, w->path) != 0) {
        fail(err, errlen, "cannot move the finished file into place (%s)", strerror(errno));
        goto done;
    }
    free(w->temporary);
    w->temporary = NULL;   // renamed: nothing to remove
    // The file is complete and in place; a folder that cannot be synced only weakens durability
    // against power loss, so it is not reported as a failure to write.
    sync_directory(w->path);
    status = 0;
done:
    writer_free(w);
    return status;
}

void omni_video_writer_abort(omni_video_writer *w) { writer_free(w); }
