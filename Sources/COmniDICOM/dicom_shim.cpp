// The GDCM side of COmniDICOM (see include/COmniDICOM.h). C++ stays in this file: every entry point
// is extern "C", catches every exception and turns it into a status code and a message.
#include "COmniDICOM.h"

#include <gdcmAttribute.h>
#include <gdcmDataSet.h>
#include <gdcmDict.h>
#include <gdcmDicts.h>
#include <gdcmFile.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmGlobal.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmItem.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmStringFilter.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <gdcmUIDGenerator.h>
#include <gdcmUIDs.h>
#include <gdcmWriter.h>

#include <algorithm>
#include <csetjmp>
#include <csignal>
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// ---- GDCM's own assertions ---------------------------------------------------------------------
//
// Debian builds GDCM with assert() enabled, and GDCM asserts (and in places calls abort()) on
// malformed input: a bad file would kill the process. This target defines __assert_fail and abort
// so that, while a shim call is running on this thread, they jump back to that call, which then
// reports the file as corrupt. Outside a shim call they behave as libc's do (message, SIGABRT).
// The jump skips the destructors of GDCM's frames (a bounded leak per rejected file); the handle
// whose call was interrupted is marked unusable.
namespace {
thread_local std::jmp_buf *trap_target = nullptr;
thread_local char trap_message[256];

[[noreturn]] void default_abort() {
    std::signal(SIGABRT, SIG_DFL);
    std::raise(SIGABRT);
    _exit(134);
}
}  // namespace

extern "C" {
void __assert_fail(const char *assertion, const char *file, unsigned int line, const char *function) noexcept {
    if (trap_target) {
        std::snprintf(trap_message, sizeof trap_message, "GDCM internal check failed: %s (%s:%u)", assertion ? assertion : "?",
                      file ? file : "?", line);
        std::longjmp(*trap_target, 1);
    }
    std::fprintf(stderr, "%s:%u: %s: Assertion `%s' failed.\n", file ? file : "?", line, function ? function : "?",
                 assertion ? assertion : "?");
    default_abort();
}

void abort(void) noexcept {
    if (trap_target) {
        std::snprintf(trap_message, sizeof trap_message, "GDCM aborted while reading the data");
        std::longjmp(*trap_target, 1);
    }
    default_abort();
}
}

namespace {

// GDCM prints warnings and errors on std::cerr by default; a library must stay quiet.
struct QuietGDCM {
    QuietGDCM() {
        gdcm::Trace::SetDebug(false);
        gdcm::Trace::SetWarning(false);
        gdcm::Trace::SetError(false);
    }
};
const QuietGDCM quiet;

void set_error(char *err, size_t cap, const std::string &message) {
    if (err == nullptr || cap == 0) return;
    size_t n = std::min(message.size(), cap - 1);
    std::memcpy(err, message.data(), n);
    err[n] = '\0';
}

void copy_text(char *dst, size_t cap, const std::string &text) {
    size_t n = std::min(text.size(), cap - 1);
    std::memcpy(dst, text.data(), n);
    dst[n] = '\0';
}

// A read-only, seekable std::streambuf over bytes in memory (GDCM seeks while parsing).
class MemoryBuffer : public std::streambuf {
public:
    MemoryBuffer(const char *data, size_t size) {
        char *p = const_cast<char *>(data);
        setg(p, p, p + size);
    }

protected:
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
        if (!(which & std::ios_base::in)) return pos_type(off_type(-1));
        off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() : egptr() - eback();
        off_type target = base + off;
        if (target < 0 || target > egptr() - eback()) return pos_type(off_type(-1));
        setg(eback(), eback() + target, egptr());
        return pos_type(target);
    }
    pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
        return seekoff(off_type(pos), std::ios_base::beg, which);
    }
};

/// Thrown inside the shim to carry a status code to the extern "C" boundary.
struct ShimError : std::runtime_error {
    int code;
    ShimError(int code, const std::string &message) : std::runtime_error(message), code(code) {}
};

std::string trim_value(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    size_t start = 0;
    while (start < s.size() && s[start] == ' ') start++;
    return s.substr(start);
}

uint16_t read_u16(const unsigned char *p, bool little) {
    return little ? uint16_t(p[0] | (p[1] << 8)) : uint16_t((p[0] << 8) | p[1]);
}

uint32_t read_u32(const unsigned char *p, bool little) {
    return little ? uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24)
                  : (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

bool is_vr_code(const unsigned char *p) { return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z'; }

bool long_vr(const unsigned char *p) {
    static const char *const longs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char *v : longs)
        if (p[0] == v[0] && p[1] == v[1]) return true;
    return false;
}

// A structural walk over the encoded data set before GDCM sees it: every defined length must fit in
// the bytes that are left. GDCM allocates an element's declared length before reading it, so a
// 20-byte file claiming a 3 GB value would otherwise cost 3 GB. Undefined lengths (sequences,
// items, encapsulated pixel data) are followed to their delimiters. Returns an empty string when
// the layout is sound, else the reason. Deflated data sets are checked after the meta only (the
// rest is compressed; GDCM inflates it in a bounded stream).
class LayoutCheck {
public:
    LayoutCheck(const unsigned char *data, size_t size) : d(data), n(size) {}

    std::string run(size_t start, bool explicit_vr, bool little, size_t *meta_end, std::string *ts_uid) {
        pos = start;
        // File meta information (group 0002) is always explicit VR little endian.
        if (ts_uid) ts_uid->clear();
        if (pos + 4 <= n && read_u16(d + pos, true) == 0x0002) {
            while (pos + 4 <= n && read_u16(d + pos, true) == 0x0002) {
                uint16_t element = read_u16(d + pos + 2, true);
                size_t value_at = 0;
                uint64_t length = 0;
                if (!header(true, true, &value_at, &length)) return failure;
                if (length == undefined) return "file meta element (0002," + hex4(element) + ") has an undefined length";
                if (element == 0x0010 && ts_uid) ts_uid->assign(reinterpret_cast<const char *>(d + value_at), size_t(length));
                pos = value_at + size_t(length);
            }
        }
        if (meta_end) *meta_end = pos;
        if (ts_uid && !ts_uid->empty()) {
            std::string ts = trim_value(*ts_uid);
            if (ts == "1.2.840.10008.1.2") { explicit_vr = false; little = true; }
            else if (ts == "1.2.840.10008.1.2.2") { explicit_vr = true; little = false; }
            else if (ts == "1.2.840.10008.1.2.1.99" || ts == "1.2.840.10008.1.2.4.95") return "";  // deflated
            else { explicit_vr = true; little = true; }
        }
        return dataset(explicit_vr, little, n, 0);
    }

private:
    static constexpr uint64_t undefined = 0xFFFFFFFFull;
    const unsigned char *d;
    size_t n;
    size_t pos = 0;
    std::string failure;

    static std::string hex4(uint16_t v) {
        char b[8];
        std::snprintf(b, sizeof b, "%04X", unsigned(v));
        return b;
    }

    // Reads an element header at `pos`; sets the value offset and length (undefined = 0xFFFFFFFF),
    // whether the element is a sequence, and whether it is UN (whose items are implicit VR).
    bool header(bool explicit_vr, bool little, size_t *value_at, uint64_t *length, bool *is_sq = nullptr,
                bool *is_un = nullptr) {
        if (pos + 8 > n) {
            failure = "truncated: an element header at byte " + std::to_string(pos) + " runs past the end";
            return false;
        }
        uint16_t group = read_u16(d + pos, little);
        uint16_t element = read_u16(d + pos + 2, little);
        const bool item_tag = group == 0xFFFE;
        bool sq = false, un = false;
        // Explicit VR: a two-letter code, unless this is an item or delimiter (no VR there).
        if (explicit_vr && !item_tag && is_vr_code(d + pos + 4)) {
            if (long_vr(d + pos + 4)) {
                if (pos + 12 > n) {
                    failure = "truncated: the header of (" + hex4(group) + "," + hex4(element) + ") runs past the end";
                    return false;
                }
                sq = d[pos + 4] == 'S' && d[pos + 5] == 'Q';
                un = d[pos + 4] == 'U' && d[pos + 5] == 'N';
                *length = read_u32(d + pos + 8, little);
                *value_at = pos + 12;
            } else {
                *length = read_u16(d + pos + 6, little);
                *value_at = pos + 8;
            }
        } else {
            *length = read_u32(d + pos + 4, little);
            *value_at = pos + 8;
            if (!item_tag) {
                const gdcm::DictEntry &entry =
                    gdcm::Global::GetInstance().GetDicts().GetDictEntry(gdcm::Tag(group, element));
                sq = entry.GetVR() == gdcm::VR::SQ;
            }
        }
        if (is_sq) *is_sq = sq;
        if (is_un) *is_un = un;
        if (*length != undefined && *value_at + *length > n) {
            failure = "truncated or corrupt: element (" + hex4(group) + "," + hex4(element) + ") declares " +
                      std::to_string(*length) + " bytes but only " + std::to_string(n - std::min(n, *value_at)) +
                      " remain";
            return false;
        }
        return true;
    }

    // Walks elements until `end` (defined length) or an item/sequence delimiter (undefined length).
    std::string dataset(bool explicit_vr, bool little, size_t end, int depth) {
        if (depth > 64) return "corrupt: sequences nested more than 64 deep";
        while (pos < end) {
            if (end - pos < 8) {
                // Trailing padding shorter than a header is tolerated at the top level only.
                if (depth == 0) return "";
                return "truncated: " + std::to_string(end - pos) + " stray bytes inside an item";
            }
            uint16_t group = read_u16(d + pos, little);
            uint16_t element = read_u16(d + pos + 2, little);
            if (group == 0xFFFE && (element == 0xE00D || element == 0xE0DD)) {
                // item / sequence delimiter: the caller consumes it
                return "";
            }
            size_t value_at = 0;
            uint64_t length = 0;
            bool is_sq = false, is_un = false;
            if (!header(explicit_vr, little, &value_at, &length, &is_sq, &is_un)) return failure;
            pos = value_at;
            if (length == undefined) {
                if (group == 0x7FE0) {
                    // encapsulated pixel data: items of defined length up to a sequence delimiter
                    std::string r = fragments(little);
                    if (!r.empty()) return r;
                } else if (group == 0xFFFE) {
                    return "corrupt: an item tag of undefined length outside a sequence at byte " + std::to_string(pos - 8);
                } else {
                    // a sequence (or UN of undefined length, whose items are implicit VR little endian)
                    std::string r = is_un ? sequence(false, true, depth) : sequence(explicit_vr, little, depth);
                    if (!r.empty()) return r;
                }
                continue;
            }
            if (is_sq && length > 0) {
                size_t sq_end = value_at + size_t(length);
                std::string r = defined_sequence(explicit_vr, little, sq_end, depth);
                if (!r.empty()) return r;
                pos = sq_end;
                continue;
            }
            pos = value_at + size_t(length);
        }
        return "";
    }

    std::string item_body(bool explicit_vr, bool little, uint64_t length, int depth) {
        if (length == undefined) {
            std::string r = dataset(explicit_vr, little, n, depth + 1);
            if (!r.empty()) return r;
            if (pos + 8 > n) return "truncated: an item has no delimiter";
            pos += 8;  // (FFFE,E00D)
            return "";
        }
        size_t item_end = pos + size_t(length);
        std::string r = dataset(explicit_vr, little, item_end, depth + 1);
        if (!r.empty()) return r;
        pos = item_end;
        return "";
    }

    std::string sequence(bool explicit_vr, bool little, int depth) {
        while (true) {
            if (pos + 8 > n) return "truncated: a sequence of undefined length has no delimiter";
            uint16_t group = read_u16(d + pos, little), element = read_u16(d + pos + 2, little);
            uint64_t length = read_u32(d + pos + 4, little);
            if (group != 0xFFFE) return "corrupt: expected an item in a sequence at byte " + std::to_string(pos);
            pos += 8;
            if (element == 0xE0DD) return "";
            if (element != 0xE000) return "corrupt: unexpected delimiter in a sequence at byte " + std::to_string(pos - 8);
            if (length != undefined && pos + length > n)
                return "truncated or corrupt: an item declares " + std::to_string(length) + " bytes but only " +
                       std::to_string(n - pos) + " remain";
            std::string r = item_body(explicit_vr, little, length, depth);
            if (!r.empty()) return r;
        }
    }

    std::string defined_sequence(bool explicit_vr, bool little, size_t end, int depth) {
        while (pos < end) {
            if (end - pos < 8) return "corrupt: a sequence ends inside an item header";
            uint16_t group = read_u16(d + pos, little), element = read_u16(d + pos + 2, little);
            uint64_t length = read_u32(d + pos + 4, little);
            if (group != 0xFFFE) {
                // Some writers mark non-sequence data as SQ; nothing more to check inside.
                pos = end;
                return "";
            }
            pos += 8;
            if (element == 0xE0DD) { pos = end; return ""; }
            if (length != undefined && pos + length > end)
                return "truncated or corrupt: an item declares " + std::to_string(length) +
                       " bytes, more than its sequence holds";
            std::string r = item_body(explicit_vr, little, length, depth);
            if (!r.empty()) return r;
        }
        return "";
    }

    std::string fragments(bool little) {
        while (true) {
            if (pos + 8 > n) return "truncated: encapsulated pixel data has no sequence delimiter";
            uint16_t group = read_u16(d + pos, little), element = read_u16(d + pos + 2, little);
            uint64_t length = read_u32(d + pos + 4, little);
            if (group != 0xFFFE) return "corrupt: expected a pixel data fragment at byte " + std::to_string(pos);
            pos += 8;
            if (element == 0xE0DD) return "";
            if (length == undefined || pos + length > n)
                return "truncated or corrupt: a pixel data fragment declares " + std::to_string(length) +
                       " bytes but only " + std::to_string(n - pos) + " remain";
            pos += size_t(length);
        }
    }
};

// Where the data set starts and how it is encoded when there is no preamble: some files start
// directly with group 0002 or 0008 (pydicom's "no meta" test files).
bool plausible_start(const unsigned char *d, size_t n, size_t *start, bool *explicit_vr, bool *little) {
    if (n >= 132 && std::memcmp(d + 128, "DICM", 4) == 0) {
        *start = 132;
        *explicit_vr = true;
        *little = true;
        return true;
    }
    if (n < 8) return false;
    for (int le = 1; le >= 0; le--) {
        uint16_t group = read_u16(d, le), element = read_u16(d + 2, le);
        if ((group == 0x0002 || group == 0x0008) && element <= 0x0100) {
            *start = 0;
            *little = le;
            *explicit_vr = is_vr_code(d + 4);
            return true;
        }
    }
    return false;
}

gdcm::VR vr_of(const gdcm::DataElement &de) {
    gdcm::VR vr = de.GetVR();
    if (vr == gdcm::VR::INVALID || vr == gdcm::VR::UN) {
        const gdcm::DictEntry &entry = gdcm::Global::GetInstance().GetDicts().GetDictEntry(de.GetTag());
        if (entry.GetVR() != gdcm::VR::INVALID) vr = entry.GetVR();
    }
    return vr;
}

bool is_sequence(const gdcm::DataElement &de) {
    if (de.GetVR() == gdcm::VR::SQ) return true;
    gdcm::VR vr = vr_of(de);
    return vr == gdcm::VR::SQ;
}

}  // namespace

struct omni_dicom {
    std::vector<char> bytes;
    std::unique_ptr<MemoryBuffer> buffer;
    std::unique_ptr<std::istream> stream;
    std::unique_ptr<gdcm::Reader> reader;         // the file (data set) when there is no image
    std::unique_ptr<gdcm::ImageReader> image;     // the file and its image when there is one
    std::vector<char> patched;                    // a re-encoded copy when the original needs a fix-up for GDCM
    std::string ts_uid, ts_name, image_error;
    bool has_image = false;
    bool poisoned = false;                        // a GDCM assertion interrupted a call on this handle

    gdcm::File &file() { return has_image ? image->GetFile() : reader->GetFile(); }
    const gdcm::File &file() const { return has_image ? image->GetFile() : reader->GetFile(); }
};

namespace {

// Runs `fn` under its own trap: false (with the message) when GDCM asserted or aborted inside.
template <typename Fn>
bool run_trapped(Fn fn, std::string *message) {
    std::jmp_buf env;
    std::jmp_buf *const saved = trap_target;
    if (setjmp(env) != 0) {
        trap_target = saved;
        *message = trap_message;
        return false;
    }
    trap_target = &env;
    try {
        fn();
    } catch (...) {
        trap_target = saved;
        throw;
    }
    trap_target = saved;
    return true;
}

// Parses `bytes` as an image; on success moves the reader and its stream into the handle.
bool read_image(omni_dicom *h, const std::vector<char> &bytes, std::string *problem) {
    std::unique_ptr<MemoryBuffer> buffer(new MemoryBuffer(bytes.data(), bytes.size()));
    std::unique_ptr<std::istream> stream(new std::istream(buffer.get()));
    std::unique_ptr<gdcm::ImageReader> image(new gdcm::ImageReader());
    image->SetStream(*stream);
    bool ok = false;
    try {
        if (!run_trapped([&] { ok = image->Read(); }, problem)) return false;
    } catch (const std::exception &e) {
        *problem = std::string("GDCM: ") + e.what();
        return false;
    }
    if (!ok) {
        *problem = "GDCM cannot read the image attributes (Rows, Columns, Bits Allocated, Photometric Interpretation, …)";
        return false;
    }
    h->image = std::move(image);
    h->buffer = std::move(buffer);
    h->stream = std::move(stream);
    h->has_image = true;
    return true;
}

void open_parsed(omni_dicom *h) {
    const unsigned char *d = reinterpret_cast<const unsigned char *>(h->bytes.data());
    const size_t n = h->bytes.size();
    if (n == 0) throw ShimError(OMNI_DICOM_ERR_EMPTY, "empty file (0 bytes)");
    size_t start = 0;
    bool explicit_vr = true, little = true;
    if (!plausible_start(d, n, &start, &explicit_vr, &little)) {
        if (n < 132)
            throw ShimError(OMNI_DICOM_ERR_NOT_DICOM, "not a DICOM file: " + std::to_string(n) +
                                                          " bytes, too short for the 128-byte preamble and \"DICM\"");
        throw ShimError(OMNI_DICOM_ERR_NOT_DICOM, "not a DICOM file: no \"DICM\" marker at byte 128 and no data set at the start");
    }
    LayoutCheck check(d, n);
    size_t meta_end = 0;
    std::string ts;
    std::string problem = check.run(start, explicit_vr, little, &meta_end, &ts);
    if (!problem.empty()) throw ShimError(OMNI_DICOM_ERR_CORRUPT, problem);

    h->buffer.reset(new MemoryBuffer(h->bytes.data(), n));
    h->stream.reset(new std::istream(h->buffer.get()));
    h->reader.reset(new gdcm::Reader());
    h->reader->SetStream(*h->stream);
    if (!h->reader->Read()) throw ShimError(OMNI_DICOM_ERR_CORRUPT, "GDCM cannot parse the data set (truncated or corrupt)");

    const gdcm::File &f = h->reader->GetFile();
    gdcm::TransferSyntax tsx = f.GetHeader().GetDataSetTransferSyntax();
    const char *tss = gdcm::TransferSyntax::GetTSString(tsx);
    h->ts_uid = tss ? tss : "";
    if (h->ts_uid.empty() && !ts.empty()) h->ts_uid = trim_value(ts);
    gdcm::UIDs uid;
    if (!h->ts_uid.empty() && uid.SetFromUID(h->ts_uid.c_str()) && uid.GetName()) h->ts_name = uid.GetName();

    const gdcm::DataSet &ds = f.GetDataSet();
    if (ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010)) || ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0008)) ||
        ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0009))) {
        // Parse again as an image so that GDCM derives the pixel attributes (it reads them while
        // parsing); the image reader's file becomes the one file of this handle.
        std::string problem;
        bool ok = read_image(h, h->bytes, &problem);
        if (!ok && ds.FindDataElement(gdcm::Tag(0x3004, 0x000C)) && !ds.FindDataElement(gdcm::Tag(0x0028, 0x0008))) {
            // GDCM asserts on an RT Dose without Number of Frames (pydicom's rtdose_1frame.dcm):
            // the attribute defaults to 1 (PS3.3 C.7.6.6), so re-encode with it and read that.
            // (heap-allocated: the writer holds it through a reference-counting SmartPointer)
            gdcm::SmartPointer<gdcm::File> copy = new gdcm::File(h->reader->GetFile());
            gdcm::DataElement frames(gdcm::Tag(0x0028, 0x0008));
            frames.SetVR(gdcm::VR::IS);
            frames.SetByteValue("1 ", 2);
            copy->GetDataSet().Replace(frames);
            std::ostringstream os;
            gdcm::Writer writer;
            writer.SetStream(os);
            writer.SetFile(*copy);
            if (writer.Write()) {
                const std::string encoded = os.str();
                h->patched.assign(encoded.begin(), encoded.end());
                std::string second;
                ok = read_image(h, h->patched, &second);
            }
        }
        if (ok) {
            h->reader.reset();
        } else {
            h->image_error = problem;
        }
    } else {
        h->image_error = "no Pixel Data element (7FE0,0010)";
    }
}

/// Runs `body` with every C++ exception, GDCM assertion and abort turned into a status code.
/// `poison` (may be null) is set when an assertion interrupted the body.
template <typename Body>
int guarded(char *err, size_t err_cap, bool *poison, Body body) {
    std::jmp_buf env;
    std::jmp_buf *const saved = trap_target;
    if (setjmp(env) != 0) {
        trap_target = saved;
        if (poison) *poison = true;
        set_error(err, err_cap, trap_message);
        return OMNI_DICOM_ERR_CORRUPT;
    }
    trap_target = &env;
    int rc;
    try {
        rc = body();
    } catch (const ShimError &e) {
        set_error(err, err_cap, e.what());
        rc = e.code;
    } catch (const std::bad_alloc &) {
        set_error(err, err_cap, "out of memory");
        rc = OMNI_DICOM_ERR_MEMORY;
    } catch (const std::exception &e) {
        set_error(err, err_cap, std::string("GDCM: ") + e.what());
        rc = OMNI_DICOM_ERR_INTERNAL;
    } catch (...) {
        set_error(err, err_cap, "GDCM raised an unknown exception");
        rc = OMNI_DICOM_ERR_INTERNAL;
    }
    trap_target = saved;
    return rc;
}

// Value of an element as text, through GDCM's StringFilter (numbers in binary VRs become text).
bool element_text(const gdcm::File &file, const gdcm::DataSet &ds, const gdcm::Tag &tag, std::string *out) {
    if (!ds.FindDataElement(tag)) return false;
    const gdcm::DataElement &de = ds.GetDataElement(tag);
    if (de.IsEmpty()) {
        out->clear();
        return true;
    }
    if (is_sequence(de)) {
        out->clear();
        return true;
    }
    gdcm::VR vr = vr_of(de);
    if (gdcm::VR::IsASCII(vr) || vr == gdcm::VR::INVALID || vr == gdcm::VR::UN) {
        const gdcm::ByteValue *bv = de.GetByteValue();
        if (!bv) {
            out->clear();
            return true;
        }
        std::string s(bv->GetPointer(), bv->GetLength());
        if (vr == gdcm::VR::UN || vr == gdcm::VR::INVALID) {
            // only text-looking values are shown
            for (char c : s)
                if ((unsigned char)c < 0x20 && c != 0 && c != '\\' && c != '\n' && c != '\r' && c != '\t') {
                    out->assign("<binary " + std::to_string(s.size()) + " bytes>");
                    return true;
                }
        }
        *out = trim_value(s);
        return true;
    }
    gdcm::StringFilter sf;
    sf.SetFile(file);
    if (tag.GetGroup() == 0x0002) {
        // StringFilter reads the data set; binary meta values are rare and not needed here
        out->clear();
        return true;
    }
    *out = trim_value(sf.ToString(tag));
    return true;
}

bool contains_anywhere(const gdcm::DataSet &ds, const gdcm::Tag &tag, bool private_only, int depth) {
    if (depth > 64) return false;
    for (const gdcm::DataElement &de : ds.GetDES()) {
        if (private_only ? de.GetTag().IsPrivate() : de.GetTag() == tag) return true;
        if (is_sequence(de) && !de.IsEmpty()) {
            gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
            if (!sq) continue;
            for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); i++)
                if (contains_anywhere(sq->GetItem(i).GetNestedDataSet(), tag, private_only, depth + 1)) return true;
        }
    }
    return false;
}

// Depth-first occurrences of `tag` (values as text), nested items included.
void collect_anywhere(const gdcm::File &file, const gdcm::DataSet &ds, const gdcm::Tag &tag, std::vector<std::string> *out,
                      int depth) {
    if (depth > 64) return;
    for (const gdcm::DataElement &de : ds.GetDES()) {
        if (de.GetTag() == tag) {
            std::string text;
            if (depth == 0) {
                element_text(file, ds, tag, &text);
            } else if (!is_sequence(de) && de.GetByteValue()) {
                // nested values: text VRs as they are (StringFilter reads the top level only)
                gdcm::VR vr = vr_of(de);
                if (gdcm::VR::IsASCII(vr)) text = trim_value(std::string(de.GetByteValue()->GetPointer(), de.GetByteValue()->GetLength()));
                else text = "<binary " + std::to_string(de.GetByteValue()->GetLength()) + " bytes>";
            }
            out->push_back(text);
        }
        if (is_sequence(de) && !de.IsEmpty()) {
            gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
            if (!sq) continue;
            for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); i++)
                collect_anywhere(file, sq->GetItem(i).GetNestedDataSet(), tag, out, depth + 1);
        }
    }
}

// ---- pixel post-processing ----------------------------------------------------------------------

// pydicom's default conversion (pydicom.pixels.processing.convert_color_space, YBR_FULL → RGB):
// float32 arithmetic with the ITU-R BT.601 full-range coefficients, round half up, clip to [0, 255].
void ybr_full_to_rgb(uint8_t *p, size_t pixels) {
    const float cb_g = float(-0.114 * 1.772 / 0.587), cr_g = float(-0.299 * 1.402 / 0.587);
    const float cb_b = 1.772f, cr_r = 1.402f;
    for (size_t i = 0; i < pixels; i++) {
        float y = p[3 * i], cb = float(p[3 * i + 1]) - 128.0f, cr = float(p[3 * i + 2]) - 128.0f;
        float r = y + cr * cr_r;
        float g = y + cb * cb_g + cr * cr_g;
        float b = y + cb * cb_b;
        float v[3] = {r, g, b};
        for (int c = 0; c < 3; c++) {
            float x = std::floor(v[c] + 0.5f);
            x = x < 0.0f ? 0.0f : (x > 255.0f ? 255.0f : x);
            p[3 * i + c] = uint8_t(x);
        }
    }
}

// DICOM RLE (PS3.5 Annex G): one fragment per frame; a 64-byte header (segment count, then 15
// offsets); one PackBits segment per byte of each sample, most significant byte first, sample by
// sample. Output is [rows, columns, samples] little-endian per frame.
void decode_rle(const gdcm::DataSet &ds, uint64_t rows, uint64_t cols, uint64_t frames, uint64_t spp, uint64_t bps,
                uint8_t *dst) {
    const gdcm::Tag pixel_tag(0x7FE0, 0x0010);
    if (!ds.FindDataElement(pixel_tag)) throw ShimError(OMNI_DICOM_ERR_NO_PIXELS, "no Pixel Data element (7FE0,0010)");
    const gdcm::SequenceOfFragments *sf = ds.GetDataElement(pixel_tag).GetSequenceOfFragments();
    if (!sf) throw ShimError(OMNI_DICOM_ERR_CORRUPT, "RLE Lossless pixel data is not encapsulated in fragments");
    const uint64_t nfrag = sf->GetNumberOfFragments();
    if (nfrag != frames)
        throw ShimError(OMNI_DICOM_ERR_CORRUPT, "RLE Lossless needs one fragment per frame: " + std::to_string(nfrag) +
                                                    " fragments for " + std::to_string(frames) + " frames");
    const uint64_t pixels = rows * cols, segments = spp * bps;
    std::vector<uint8_t> plane(static_cast<size_t>(pixels));
    for (uint64_t f = 0; f < frames; f++) {
        const gdcm::ByteValue *bv = sf->GetFragment(unsigned(f)).GetByteValue();
        const std::string where = "RLE frame " + std::to_string(f + 1);
        if (!bv || bv->GetLength() < 64) throw ShimError(OMNI_DICOM_ERR_CORRUPT, where + ": fragment shorter than the 64-byte RLE header");
        const uint8_t *p = reinterpret_cast<const uint8_t *>(bv->GetPointer());
        const uint64_t len = bv->GetLength();
        const uint32_t count = read_u32(p, true);
        if (count != segments)
            throw ShimError(OMNI_DICOM_ERR_CORRUPT, where + ": " + std::to_string(count) + " segments, expected " +
                                                        std::to_string(segments) + " (samples × bytes per sample)");
        uint8_t *out = dst + f * pixels * spp * bps;
        for (uint32_t s = 0; s < count; s++) {
            const uint64_t begin = read_u32(p + 4 + 4 * s, true);
            const uint64_t end = s + 1 < count ? read_u32(p + 8 + 4 * s, true) : len;
            if (begin < 64 || begin > end || end > len)
                throw ShimError(OMNI_DICOM_ERR_CORRUPT, where + ": segment " + std::to_string(s + 1) + " offsets [" +
                                                            std::to_string(begin) + ", " + std::to_string(end) +
                                                            ") lie outside the fragment");
            // PackBits
            uint64_t i = begin, o = 0;
            while (i < end && o < pixels) {
                const int8_t header = int8_t(p[i++]);
                if (header >= 0) {
                    uint64_t run = uint64_t(header) + 1;
                    if (i + run > end) run = end - i;
                    run = std::min(run, pixels - o);
                    std::memcpy(plane.data() + o, p + i, size_t(run));
                    i += uint64_t(header) + 1;
                    o += run;
                } else if (header != -128) {
                    if (i >= end) break;
                    uint64_t run = std::min(uint64_t(1 - header), pixels - o);
                    std::memset(plane.data() + o, p[i++], size_t(run));
                    o += run;
                }
            }
            if (o < pixels)
                throw ShimError(OMNI_DICOM_ERR_DECODE, where + ": segment " + std::to_string(s + 1) + " decodes to " +
                                                           std::to_string(o) + " of " + std::to_string(pixels) + " bytes");
            const uint64_t sample = s / bps, byte = bps - 1 - s % bps;  // segment 0 is the most significant byte
            for (uint64_t q = 0; q < pixels; q++) out[(q * spp + sample) * bps + byte] = plane[q];
        }
    }
}

}  // namespace

extern "C" {

int omni_dicom_open_file(const char *path, uint64_t max_file_bytes, omni_dicom **out, char *err, size_t err_cap) {
    if (out) *out = nullptr;
    if (!path || !out) {
        set_error(err, err_cap, "null argument");
        return OMNI_DICOM_ERR_ARGUMENT;
    }
    // Declared here, outside the guarded body, so that it survives a jump out of GDCM.
    omni_dicom *pending = nullptr;
    int rc = guarded(err, err_cap, nullptr, [&]() -> int {
        FILE *f = std::fopen(path, "rb");
        if (!f) throw ShimError(OMNI_DICOM_ERR_IO, std::string("cannot open: ") + std::strerror(errno));
        std::unique_ptr<FILE, int (*)(FILE *)> closer(f, std::fclose);
        if (std::fseek(f, 0, SEEK_END) != 0) throw ShimError(OMNI_DICOM_ERR_IO, "cannot seek (not a regular file?)");
        long size = std::ftell(f);
        if (size < 0) throw ShimError(OMNI_DICOM_ERR_IO, "cannot tell the file size (not a regular file?)");
        if (uint64_t(size) > max_file_bytes)
            throw ShimError(OMNI_DICOM_ERR_TOO_LARGE, "the file is " + std::to_string(size) + " bytes, above the " +
                                                          std::to_string(max_file_bytes) + "-byte limit");
        std::fseek(f, 0, SEEK_SET);
        pending = new omni_dicom();
        pending->bytes.resize(size_t(size));
        if (size > 0 && std::fread(pending->bytes.data(), 1, size_t(size), f) != size_t(size))
            throw ShimError(OMNI_DICOM_ERR_IO, "read failed");
        closer.reset();
        open_parsed(pending);
        return OMNI_DICOM_OK;
    });
    if (rc != OMNI_DICOM_OK) {
        delete pending;
        return rc;
    }
    *out = pending;
    return OMNI_DICOM_OK;
}

int omni_dicom_open_memory(const void *data, size_t size, omni_dicom **out, char *err, size_t err_cap) {
    if (out) *out = nullptr;
    if ((!data && size > 0) || !out) {
        set_error(err, err_cap, "null argument");
        return OMNI_DICOM_ERR_ARGUMENT;
    }
    omni_dicom *pending = nullptr;
    int rc = guarded(err, err_cap, nullptr, [&]() -> int {
        pending = new omni_dicom();
        pending->bytes.assign(static_cast<const char *>(data), static_cast<const char *>(data) + size);
        open_parsed(pending);
        return OMNI_DICOM_OK;
    });
    if (rc != OMNI_DICOM_OK) {
        delete pending;
        return rc;
    }
    *out = pending;
    return OMNI_DICOM_OK;
}

void omni_dicom_close(omni_dicom *handle) {
    try {
        delete handle;
    } catch (...) {
    }
}

const char *omni_dicom_transfer_syntax_uid(const omni_dicom *handle) { return handle ? handle->ts_uid.c_str() : ""; }

const char *omni_dicom_transfer_syntax_name(const omni_dicom *handle) { return handle ? handle->ts_name.c_str() : ""; }

void omni_dicom_image_info_get(const omni_dicom *handle, omni_dicom_image_info *info) {
    if (!info) return;
    std::memset(info, 0, sizeof *info);
    info->slope = 1.0;
    if (!handle || !handle->has_image) return;
    try {
        const gdcm::Image &img = handle->image->GetImage();
        const gdcm::PixelFormat &pf = img.GetPixelFormat();
        info->has_pixels = 1;
        info->columns = img.GetDimension(0);
        info->rows = img.GetDimension(1);
        info->frames = img.GetNumberOfDimensions() > 2 ? img.GetDimension(2) : 1;
        info->samples_per_pixel = pf.GetSamplesPerPixel();
        info->bits_allocated = pf.GetBitsAllocated();
        info->bits_stored = pf.GetBitsStored();
        info->high_bit = pf.GetHighBit();
        info->pixel_representation = pf.GetPixelRepresentation();
        info->planar_configuration = img.GetPlanarConfiguration();
        const char *pi = gdcm::PhotometricInterpretation::GetPIString(img.GetPhotometricInterpretation());
        copy_text(info->photometric, sizeof info->photometric, pi ? pi : "");
        info->slope = img.GetSlope();
        info->intercept = img.GetIntercept();
        info->lossy = img.IsLossy() ? 1 : 0;
    } catch (...) {
        info->has_pixels = 0;
    }
}

int64_t omni_dicom_get_string(const omni_dicom *handle, uint16_t group, uint16_t element, char *buf, size_t cap) {
    if (buf && cap) buf[0] = '\0';
    if (!handle) return -1;
    try {
        const gdcm::File &f = handle->file();
        const gdcm::DataSet &ds = group == 0x0002 ? static_cast<const gdcm::DataSet &>(f.GetHeader()) : f.GetDataSet();
        std::string text;
        if (!element_text(f, ds, gdcm::Tag(group, element), &text)) return -1;
        if (buf && cap) copy_text(buf, cap, text);
        return int64_t(text.size());
    } catch (...) {
        return -1;
    }
}

size_t omni_dicom_tags(const omni_dicom *handle, uint32_t *tags, size_t cap) {
    if (!handle) return 0;
    try {
        size_t count = 0;
        auto add = [&](const gdcm::DataSet &ds) {
            for (const gdcm::DataElement &de : ds.GetDES()) {
                if (tags && count < cap) tags[count] = (uint32_t(de.GetTag().GetGroup()) << 16) | de.GetTag().GetElement();
                count++;
            }
        };
        add(handle->file().GetHeader());
        add(handle->file().GetDataSet());
        return count;
    } catch (...) {
        return 0;
    }
}

int32_t omni_dicom_contains_anywhere(const omni_dicom *handle, uint16_t group, uint16_t element) {
    if (!handle) return 0;
    try {
        return contains_anywhere(handle->file().GetDataSet(), gdcm::Tag(group, element), false, 0) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

int64_t omni_dicom_get_string_anywhere(const omni_dicom *handle, uint16_t group, uint16_t element, size_t index,
                                       char *buf, size_t cap) {
    if (buf && cap) buf[0] = '\0';
    if (!handle) return -1;
    try {
        std::vector<std::string> values;
        collect_anywhere(handle->file(), handle->file().GetDataSet(), gdcm::Tag(group, element), &values, 0);
        if (index >= values.size()) return -1;
        if (buf && cap) copy_text(buf, cap, values[index]);
        return int64_t(values[index].size());
    } catch (...) {
        return -1;
    }
}

int32_t omni_dicom_has_private_anywhere(const omni_dicom *handle) {
    if (!handle) return 0;
    try {
        return contains_anywhere(handle->file().GetDataSet(), gdcm::Tag(), true, 0) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

int omni_dicom_decode(omni_dicom *handle, int32_t convert_ybr, uint64_t max_bytes, void *dst, size_t dst_size,
                      omni_dicom_decoded_info *info, char *err, size_t err_cap) {
    if (!handle || !dst || !info) {
        set_error(err, err_cap, "null argument");
        return OMNI_DICOM_ERR_ARGUMENT;
    }
    if (handle->poisoned) {
        set_error(err, err_cap, "an earlier GDCM failure left this handle unusable");
        return OMNI_DICOM_ERR_CORRUPT;
    }
    return guarded(err, err_cap, &handle->poisoned, [&]() -> int {
        std::memset(info, 0, sizeof *info);
        if (!handle->has_image) throw ShimError(OMNI_DICOM_ERR_NO_PIXELS, handle->image_error);
        const gdcm::Image &img = handle->image->GetImage();
        const gdcm::PixelFormat &pf = img.GetPixelFormat();
        const uint64_t cols = img.GetDimension(0), rows = img.GetDimension(1);
        const uint64_t frames = img.GetNumberOfDimensions() > 2 ? img.GetDimension(2) : 1;
        const uint64_t spp = pf.GetSamplesPerPixel();
        const uint64_t bits = pf.GetBitsAllocated();
        if (rows == 0 || cols == 0 || frames == 0 || spp == 0)
            throw ShimError(OMNI_DICOM_ERR_CORRUPT, "the image has a zero size (rows " + std::to_string(rows) + ", columns " +
                                                        std::to_string(cols) + ", frames " + std::to_string(frames) + ")");
        if (!(bits == 1 || bits == 8 || bits == 16 || bits == 32))
            throw ShimError(OMNI_DICOM_ERR_UNSUPPORTED, "Bits Allocated " + std::to_string(bits) + " is not supported (1, 8, 16 or 32)");
        if (spp != 1 && spp != 3)
            throw ShimError(OMNI_DICOM_ERR_UNSUPPORTED, "Samples per Pixel " + std::to_string(spp) + " is not supported (1 or 3)");
        const uint64_t bytes_per_sample = bits == 1 ? 1 : bits / 8;
        // Each factor is below 2^32: check step by step so that the product cannot overflow.
        uint64_t total = rows;
        for (uint64_t factor : {cols, frames, spp, bytes_per_sample}) {
            if (total > max_bytes / factor)
                throw ShimError(OMNI_DICOM_ERR_TOO_LARGE,
                                "the decoded image would be " + std::to_string(rows) + " rows × " + std::to_string(cols) +
                                    " columns × " + std::to_string(frames) + " frames × " + std::to_string(spp) +
                                    " samples × " + std::to_string(bytes_per_sample) + " bytes, above the " +
                                    std::to_string(max_bytes) + "-byte limit");
            total *= factor;
        }
        if (total != dst_size)
            throw ShimError(OMNI_DICOM_ERR_ARGUMENT, "destination holds " + std::to_string(dst_size) + " bytes, the image needs " +
                                                         std::to_string(total));
        const gdcm::DataSet &ds = handle->file().GetDataSet();
        const gdcm::TransferSyntax ts = handle->file().GetHeader().GetDataSetTransferSyntax();
        std::string pi = trim_value(gdcm::PhotometricInterpretation::GetPIString(img.GetPhotometricInterpretation()) ?: "");
        const char *tsname = handle->ts_name.empty() ? handle->ts_uid.c_str() : handle->ts_name.c_str();

        if (ts == gdcm::TransferSyntax::RLELossless && bits != 1) {
            // GDCM's RLE codec interleaves multi-byte colour samples wrongly (16- and 32-bit RGB
            // come out scrambled), so RLE is decoded here, straight from the fragments.
            decode_rle(ds, rows, cols, frames, spp, bytes_per_sample, static_cast<uint8_t *>(dst));
        } else {
            const uint64_t gdcm_length = img.GetBufferLength();
            const uint64_t expected = bits == 1 ? (rows * cols * frames * spp + 7) / 8 : total;
            if (gdcm_length != expected)
                throw ShimError(OMNI_DICOM_ERR_UNSUPPORTED, "GDCM's buffer is " + std::to_string(gdcm_length) +
                                                                " bytes, expected " + std::to_string(expected));
            // Native (uncompressed) data must hold the whole image: GDCM would copy what there is
            // and leave the rest of the buffer as it was.
            if (ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010))) {
                const gdcm::ByteValue *native = ds.GetDataElement(gdcm::Tag(0x7FE0, 0x0010)).GetByteValue();
                // YBR_*_422 is stored with two samples per pixel (PS3.3 C.7.6.3.1.2)
                const uint64_t need = (pi == "YBR_FULL_422" || pi == "YBR_PARTIAL_422") ? expected / 3 * 2 : expected;
                if (native && native->GetLength() < need)
                    throw ShimError(OMNI_DICOM_ERR_CORRUPT, "Pixel Data holds " + std::to_string(native->GetLength()) +
                                                                " bytes, the image needs " + std::to_string(need) + " (" +
                                                                std::to_string(rows) + " rows × " + std::to_string(cols) + " columns × " +
                                                                std::to_string(frames) + " frames × " + std::to_string(spp) + " samples)");
            }
            std::vector<char> scratch;
            const bool direct = bits != 1;
            char *target = static_cast<char *>(dst);
            if (!direct) {
                scratch.resize(size_t(gdcm_length));
                target = scratch.data();
            }
            if (!img.GetBuffer(target))
                throw ShimError(OMNI_DICOM_ERR_DECODE, std::string("the ") + tsname + " pixel data does not decode (truncated or corrupt)");
            // GDCM may update the photometric interpretation and planar configuration while
            // decoding (JPEG 2000 YBR_RCT/ICT come out as RGB values), so read them afterwards.
            pi = trim_value(gdcm::PhotometricInterpretation::GetPIString(img.GetPhotometricInterpretation()) ?: "");
            if (bits == 1) {
                // 1-bit data is packed little-bit-first (PS3.5 §8.1.1): bit 0 of byte 0 is the first pixel.
                uint8_t *out8 = static_cast<uint8_t *>(dst);
                const uint8_t *in = reinterpret_cast<const uint8_t *>(scratch.data());
                for (uint64_t i = 0; i < total; i++) out8[i] = (in[i >> 3] >> (i & 7)) & 1;
            } else if (spp == 3 && img.GetPlanarConfiguration() == 1) {
                // planar (R plane, G plane, B plane per frame) → interleaved
                const uint64_t plane = rows * cols * bytes_per_sample, frame_bytes = plane * 3;
                std::vector<char> frame(static_cast<size_t>(frame_bytes));
                char *out = static_cast<char *>(dst);
                for (uint64_t f = 0; f < frames; f++) {
                    char *o = out + f * frame_bytes;
                    std::memcpy(frame.data(), o, size_t(frame_bytes));
                    for (uint64_t p = 0; p < rows * cols; p++)
                        for (uint64_t c = 0; c < 3; c++)
                            std::memcpy(o + (p * 3 + c) * bytes_per_sample, frame.data() + c * plane + p * bytes_per_sample,
                                        size_t(bytes_per_sample));
                }
            }
            if (bits == 32 && ts == gdcm::TransferSyntax::ExplicitVRBigEndian && ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010)) &&
                ds.GetDataElement(gdcm::Tag(0x7FE0, 0x0010)).GetVR() == gdcm::VR::OW) {
                // GDCM swaps big-endian OW Pixel Data in 16-bit words only; 32-bit samples also
                // need their two halves exchanged (pydicom's rtdose_expb.dcm).
                uint32_t *v = static_cast<uint32_t *>(dst);
                for (uint64_t i = 0; i < total / 4; i++) v[i] = (v[i] << 16) | (v[i] >> 16);
            }
        }
        // Signed samples narrower than their container: extend the sign from Bits Stored (PS3.5
        // §8.1.1), whatever the codec left in the unused high bits.
        const uint64_t stored = pf.GetBitsStored();
        if (pf.GetPixelRepresentation() == 1 && bits >= 8 && stored > 0 && stored < bits) {
            const unsigned shift = unsigned(bits - stored);
            const uint64_t count = total / bytes_per_sample;
            if (bits == 8) {
                int8_t *v = static_cast<int8_t *>(dst);
                for (uint64_t i = 0; i < count; i++) v[i] = int8_t(int8_t(uint8_t(v[i]) << shift) >> shift);
            } else if (bits == 16) {
                int16_t *v = static_cast<int16_t *>(dst);
                for (uint64_t i = 0; i < count; i++) v[i] = int16_t(int16_t(uint16_t(v[i]) << shift) >> shift);
            } else {
                int32_t *v = static_cast<int32_t *>(dst);
                for (uint64_t i = 0; i < count; i++) v[i] = int32_t(uint32_t(v[i]) << shift) >> shift;
            }
        }
        info->bytes_per_sample = uint32_t(bytes_per_sample);
        if (convert_ybr && spp == 3 && bits == 8 && (pi == "YBR_FULL" || pi == "YBR_FULL_422")) {
            ybr_full_to_rgb(static_cast<uint8_t *>(dst), size_t(rows * cols * frames));
            info->converted_ybr = 1;
            pi = "RGB";
        }
        copy_text(info->photometric, sizeof info->photometric, pi);
        return OMNI_DICOM_OK;
    });
}

}  // extern "C"

// ---- de-identification --------------------------------------------------------------------------

namespace {

struct Deidentifier {
    const omni_dicom_rule *rules;
    size_t count;
    std::map<std::string, std::string> uid_map;
    gdcm::UIDGenerator generator;

    const omni_dicom_rule *rule_for(const gdcm::Tag &tag) const {
        for (size_t i = 0; i < count; i++) {
            const omni_dicom_rule &r = rules[i];
            if ((tag.GetGroup() & r.group_mask) == (r.group & r.group_mask) &&
                (tag.GetElement() & r.element_mask) == (r.element & r.element_mask))
                return &r;
        }
        return nullptr;
    }

    std::string new_uid(const std::string &old) {
        std::string key = trim_value(old);
        auto it = uid_map.find(key);
        if (it != uid_map.end()) return it->second;
        std::string fresh = generator.Generate();
        uid_map[key] = fresh;
        return fresh;
    }

    static void set_text(gdcm::DataElement &de, std::string text, char pad) {
        if (text.size() % 2) text.push_back(pad);
        de.SetByteValue(text.data(), gdcm::VL(uint32_t(text.size())));
    }

    // A non-empty value consistent with the VR (the D action).
    void dummy(gdcm::DataElement &de, gdcm::VR vr) {
        switch (vr) {
        case gdcm::VR::DA: set_text(de, "19000101", ' '); break;
        case gdcm::VR::TM: set_text(de, "000000", ' '); break;
        case gdcm::VR::DT: set_text(de, "19000101000000", ' '); break;
        case gdcm::VR::AS: set_text(de, "000Y", ' '); break;
        case gdcm::VR::DS:
        case gdcm::VR::IS: set_text(de, "0", ' '); break;
        case gdcm::VR::UI: {
            const gdcm::ByteValue *bv = de.GetByteValue();
            std::string old = bv ? std::string(bv->GetPointer(), bv->GetLength()) : std::string();
            set_text(de, new_uid(old), '\0');
            break;
        }
        case gdcm::VR::US: case gdcm::VR::SS: { char z[2] = {0, 0}; de.SetByteValue(z, 2); break; }
        case gdcm::VR::UL: case gdcm::VR::SL: case gdcm::VR::FL: case gdcm::VR::AT: case gdcm::VR::OF: case gdcm::VR::OL: {
            char z[4] = {0, 0, 0, 0};
            de.SetByteValue(z, 4);
            break;
        }
        case gdcm::VR::FD: case gdcm::VR::SV: case gdcm::VR::UV: case gdcm::VR::OD: case gdcm::VR::OV: {
            char z[8] = {0};
            de.SetByteValue(z, 8);
            break;
        }
        case gdcm::VR::OB: case gdcm::VR::OW: case gdcm::VR::UN: { char z[2] = {0, 0}; de.SetByteValue(z, 2); break; }
        default: set_text(de, "ANONYMIZED", ' '); break;  // AE CS LO LT PN SH ST UC UR UT
        }
    }

    void uid(gdcm::DataElement &de) {
        const gdcm::ByteValue *bv = de.GetByteValue();
        if (!bv || bv->GetLength() == 0) return;
        std::string old(bv->GetPointer(), bv->GetLength());
        // multi-valued UI (e.g. Failed SOP Instance UID List): map each value
        std::string out;
        size_t start = 0;
        std::string all = trim_value(old);
        while (true) {
            size_t bs = all.find('\\', start);
            std::string one = all.substr(start, bs == std::string::npos ? std::string::npos : bs - start);
            if (!out.empty()) out.push_back('\\');
            out += new_uid(one);
            if (bs == std::string::npos) break;
            start = bs + 1;
        }
        set_text(de, out, '\0');
    }

    // Applies the rules to one data set and recurses into every sequence item.
    void clean(gdcm::DataSet &ds, int depth) {
        if (depth > 64) throw ShimError(OMNI_DICOM_ERR_CORRUPT, "sequences nested more than 64 deep");
        std::vector<gdcm::DataElement> elements(ds.GetDES().begin(), ds.GetDES().end());
        for (gdcm::DataElement de : elements) {
            const gdcm::Tag tag = de.GetTag();
            if (tag.IsPrivate()) {  // private elements (and their creators) go: no Retain Safe Private Option
                ds.Remove(tag);
                continue;
            }
            const omni_dicom_rule *rule = rule_for(tag);
            const char action = rule ? rule->action : 'K';
            const bool sequence = is_sequence(de);
            if (action == 'X') {
                ds.Remove(tag);
                continue;
            }
            if (action == 'Z') {
                gdcm::DataElement empty(tag);
                empty.SetVR(de.GetVR());
                if (sequence) {
                    empty.SetVR(gdcm::VR::SQ);
                    gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
                    sq->SetLengthToUndefined();
                    empty.SetValue(*sq);
                    empty.SetVLToUndefined();
                } else {
                    empty.SetByteValue("", 0);
                }
                ds.Replace(empty);
                continue;
            }
            if (sequence) {
                // K, D, U on a sequence: keep it and clean every item
                if (de.IsEmpty()) continue;
                gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
                if (!sq) {
                    ds.Remove(tag);  // cannot be parsed as items: nothing of it is kept
                    continue;
                }
                for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); i++) {
                    gdcm::Item &item = sq->GetItem(i);
                    clean(item.GetNestedDataSet(), depth + 1);
                    item.SetVLToUndefined();
                }
                sq->SetLengthToUndefined();
                gdcm::DataElement replaced(tag);
                replaced.SetVR(gdcm::VR::SQ);
                replaced.SetValue(*sq);
                replaced.SetVLToUndefined();
                ds.Replace(replaced);
                continue;
            }
            if (action == 'D') {
                dummy(de, vr_of(de));
                ds.Replace(de);
            } else if (action == 'U') {
                uid(de);
                ds.Replace(de);
            }
        }
    }
};

void insert_text(gdcm::DataSet &ds, uint16_t group, uint16_t element, gdcm::VR vr, const std::string &value) {
    gdcm::DataElement de(gdcm::Tag(group, element));
    de.SetVR(vr);
    std::string v = value;
    if (v.size() % 2) v.push_back(vr == gdcm::VR::UI ? '\0' : ' ');
    de.SetByteValue(v.data(), gdcm::VL(uint32_t(v.size())));
    ds.Replace(de);
}

}  // namespace

extern "C" {

int omni_dicom_deidentify(omni_dicom *handle, const omni_dicom_rule *rules, size_t count, const char *method, char *err,
                          size_t err_cap) {
    if (!handle || (!rules && count) || !method) {
        set_error(err, err_cap, "null argument");
        return OMNI_DICOM_ERR_ARGUMENT;
    }
    if (handle->poisoned) {
        set_error(err, err_cap, "an earlier GDCM failure left this handle unusable");
        return OMNI_DICOM_ERR_CORRUPT;
    }
    return guarded(err, err_cap, &handle->poisoned, [&]() -> int {
        gdcm::File &file = handle->file();
        gdcm::DataSet &ds = file.GetDataSet();
        Deidentifier deid;
        deid.rules = rules;
        deid.count = count;
        deid.clean(ds, 0);

        // File meta: the Media Storage SOP Instance UID names the instance, so it follows the
        // (new) SOP Instance UID; the sending AE title identifies a device.
        gdcm::FileMetaInformation &meta = file.GetHeader();
        if (meta.FindDataElement(gdcm::Tag(0x0002, 0x0003))) {
            gdcm::DataElement de = meta.GetDataElement(gdcm::Tag(0x0002, 0x0003));
            deid.uid(de);
            meta.Replace(de);
        }
        for (uint16_t e : {uint16_t(0x0016), uint16_t(0x0017), uint16_t(0x0018)}) meta.Remove(gdcm::Tag(0x0002, e));

        insert_text(ds, 0x0012, 0x0062, gdcm::VR::CS, "YES");
        insert_text(ds, 0x0012, 0x0063, gdcm::VR::LO, method);
        // De-identification Method Code Sequence: (113100, DCM, "Basic Application Confidentiality Profile")
        gdcm::DataSet code;
        insert_text(code, 0x0008, 0x0100, gdcm::VR::SH, "113100");
        insert_text(code, 0x0008, 0x0102, gdcm::VR::SH, "DCM");
        insert_text(code, 0x0008, 0x0104, gdcm::VR::LO, "Basic Application Confidentiality Profile");
        gdcm::Item item;
        item.SetVLToUndefined();
        item.SetNestedDataSet(code);
        gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
        sq->SetLengthToUndefined();
        sq->AddItem(item);
        gdcm::DataElement seq(gdcm::Tag(0x0012, 0x0064));
        seq.SetVR(gdcm::VR::SQ);
        seq.SetValue(*sq);
        seq.SetVLToUndefined();
        ds.Replace(seq);
        // Dates were removed or replaced: Longitudinal Temporal Information Modified = REMOVED.
        insert_text(ds, 0x0028, 0x0303, gdcm::VR::CS, "REMOVED");
        return OMNI_DICOM_OK;
    });
}

int omni_dicom_write_memory(omni_dicom *handle, void **out, size_t *size, char *err, size_t err_cap) {
    if (out) *out = nullptr;
    if (size) *size = 0;
    if (!handle || !out || !size) {
        set_error(err, err_cap, "null argument");
        return OMNI_DICOM_ERR_ARGUMENT;
    }
    if (handle->poisoned) {
        set_error(err, err_cap, "an earlier GDCM failure left this handle unusable");
        return OMNI_DICOM_ERR_CORRUPT;
    }
    return guarded(err, err_cap, &handle->poisoned, [&]() -> int {
        std::ostringstream os;
        gdcm::Writer writer;
        writer.SetStream(os);
        writer.SetFile(handle->file());
        if (!writer.Write()) throw ShimError(OMNI_DICOM_ERR_IO, "GDCM could not serialise the data set");
        const std::string bytes = os.str();
        void *buffer = std::malloc(bytes.size() ? bytes.size() : 1);
        if (!buffer) throw std::bad_alloc();
        std::memcpy(buffer, bytes.data(), bytes.size());
        *out = buffer;
        *size = bytes.size();
        return OMNI_DICOM_OK;
    });
}

void omni_dicom_free_buffer(void *buffer) { std::free(buffer); }

}  // extern "C"

// ---- sample conversions -------------------------------------------------------------------------

namespace {
template <typename Out, typename Convert>
void convert_samples(const void *src, int32_t type, size_t count, Out *dst, Convert convert) {
    switch (type) {
    case OMNI_DICOM_U8: { auto *s = static_cast<const uint8_t *>(src); for (size_t i = 0; i < count; i++) dst[i] = convert(s[i]); break; }
    case OMNI_DICOM_I8: { auto *s = static_cast<const int8_t *>(src); for (size_t i = 0; i < count; i++) dst[i] = convert(s[i]); break; }
    case OMNI_DICOM_U16: { auto *s = static_cast<const uint16_t *>(src); for (size_t i = 0; i < count; i++) dst[i] = convert(s[i]); break; }
    case OMNI_DICOM_I16: { auto *s = static_cast<const int16_t *>(src); for (size_t i = 0; i < count; i++) dst[i] = convert(s[i]); break; }
    case OMNI_DICOM_U32: { auto *s = static_cast<const uint32_t *>(src); for (size_t i = 0; i < count; i++) dst[i] = convert(s[i]); break; }
    case OMNI_DICOM_I32: { auto *s = static_cast<const int32_t *>(src); for (size_t i = 0; i < count; i++) dst[i] = convert(s[i]); break; }
    default: break;
    }
}
}  // namespace

extern "C" {

void omni_dicom_widen_i64(const void *src, int32_t type, size_t count, int64_t *dst) {
    convert_samples(src, type, count, dst, [](auto v) { return int64_t(v); });
}

void omni_dicom_widen_i32(const void *src, int32_t type, size_t count, int32_t *dst) {
    convert_samples(src, type, count, dst, [](auto v) { return int32_t(v); });
}

void omni_dicom_rescale_f32(const void *src, int32_t type, size_t count, double slope, double intercept, float *dst) {
    convert_samples(src, type, count, dst, [slope, intercept](auto v) { return float(double(v) * slope + intercept); });
}

void omni_dicom_window_u8(const float *src, size_t count, double center, double width, int32_t invert, uint8_t *dst) {
    const double lower = center - 0.5 - (width - 1.0) / 2.0, upper = center - 0.5 + (width - 1.0) / 2.0;
    for (size_t i = 0; i < count; i++) {
        const double x = src[i];
        double y;
        if (x <= lower) y = 0.0;
        else if (x > upper) y = 255.0;
        else y = ((x - (center - 0.5)) / (width - 1.0) + 0.5) * 255.0;  // width > 1 here
        y = std::floor(y + 0.5);
        y = y < 0.0 ? 0.0 : (y > 255.0 ? 255.0 : y);
        dst[i] = uint8_t(invert ? 255.0 - y : y);
    }
}

}  // extern "C"
