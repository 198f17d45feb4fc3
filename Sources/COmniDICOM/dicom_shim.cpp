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
#include <gdcmImageHelper.h>
#include <gdcmImageReader.h>
#include <gdcmItem.h>
#include <gdcmJPEG2000Codec.h>
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

#include <zlib.h>

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

// ---- the structural check that runs before GDCM parses anything ---------------------------------
//
// GDCM allocates an element's declared length before it reads the value, so a 10 KB file claiming a
// 3 GB value costs 3 GB. Worse, when its straightforward parse fails GDCM retries the whole file in
// other encodings (little endian for a big-endian file, implicit for explicit, 16-bit VRs, byte-
// swapped private sequences, CP-246 UN sequences, ...), re-reading every length from different
// bytes; some sequences are parsed lazily later (implicit-VR sequences of defined length, UN values
// holding a sequence). A check of "the" layout is only worth something if it is the layout GDCM
// will actually walk. So this check:
//  - lets GDCM itself decide the transfer syntax (its own preamble / file meta code, on group 0002
//    that has been checked first), and inflates deflated data sets (bounded) to check them too;
//  - walks the data set exactly the way GDCM's first, straightforward parse does (explicit or
//    implicit, little or big endian; sequences, items and fragments of defined or undefined length;
//    GDCM's few in-line length hacks) and refuses everything that would make that parse throw or
//    assert, since the throw is what sends GDCM into its fallbacks;
//  - checks that every defined length fits both the file and its enclosing item or sequence, and,
//    where GDCM re-derives a container's length from its contents (defined-length items and
//    sequences), that the contents add up the way GDCM counts them;
//  - checks the values GDCM may later parse lazily as sequences (defined-length elements whose
//    dictionary VR is SQ in implicit-VR data, and such values stored as UN).
// Anything outside that is refused as corrupt; the pydicom and pydicom-data test files all pass.
namespace layout {

constexpr uint64_t kUndefined = 0xFFFFFFFFull;
constexpr int kMaxDepth = 64;
// A deflated data set may inflate to at most this much (the file limit applies to the input).
constexpr uint64_t kMaxInflated = uint64_t(1) << 30;

std::string hex4(uint16_t v) {
    char b[8];
    std::snprintf(b, sizeof b, "%04X", unsigned(v));
    return b;
}

std::string tag_text(uint32_t tag) { return "(" + hex4(uint16_t(tag >> 16)) + "," + hex4(uint16_t(tag & 0xFFFF)) + ")"; }

constexpr uint32_t make_tag(uint16_t g, uint16_t e) { return (uint32_t(g) << 16) | e; }
constexpr uint32_t kItem = make_tag(0xFFFE, 0xE000), kItemEnd = make_tag(0xFFFE, 0xE00D),
                   kSequenceEnd = make_tag(0xFFFE, 0xE0DD), kPixelData = make_tag(0x7FE0, 0x0010);

gdcm::VR::VRType dictionary_vr(uint32_t tag) {
    const gdcm::DictEntry &entry = gdcm::Global::GetInstance().GetDicts().GetDictEntry(gdcm::Tag(uint16_t(tag >> 16), uint16_t(tag)));
    return gdcm::VR::VRType(entry.GetVR());
}

struct Encoding {
    bool explicit_vr;
    bool little;
};

class Walker {
public:
    Walker(const unsigned char *data, size_t size) : d(data), n(size) {}

    // The data set from `start` to the end of the buffer, read as GDCM's DataSet::Read does
    // (`counted`: as its ReadWithLength does, for implicit data without preamble + meta).
    std::string top(size_t start, Encoding enc, bool counted) {
        pos = start;
        bool exact = true;
        std::string r = dataset(enc, counted ? Mode::bounded : Mode::top, n, n - start, 0, &exact);
        if (!r.empty()) return r;
        if (counted && !exact) return "corrupt: the data set's lengths do not add up";
        return "";
    }

private:
    enum class Mode {
        top,      // to the end of the buffer (a few stray bytes at the very end are tolerated)
        nested,   // an item of undefined length: up to the item delimiter, which is consumed
        bounded,  // an item of defined length: exactly up to `end`, every element exact
    };

    const unsigned char *d;
    size_t n;
    size_t pos = 0;

    uint16_t u16(size_t at, bool little) const { return read_u16(d + at, little); }
    uint32_t u32(size_t at, bool little) const { return read_u32(d + at, little); }
    uint32_t tag_at(size_t at, bool little) const { return make_tag(u16(at, little), u16(at + 2, little)); }

    static std::string at_byte(size_t at) { return " at byte " + std::to_string(at); }

    std::string too_long(uint32_t tag, uint64_t length, size_t value_at, size_t end) const {
        return "truncated or corrupt: element " + tag_text(tag) + " declares " + std::to_string(length) +
               " bytes but only " + std::to_string(end - std::min(end, value_at)) + " remain";
    }

    // Elements of one data set. `exact` (in/out) becomes false when GDCM would count the data
    // set's length differently from its size (duplicate tags, odd lengths, UN sequences).
    std::string dataset(Encoding enc, Mode mode, size_t end, uint64_t bound_len, int depth, bool *exact) {
        if (depth > kMaxDepth) return "corrupt: sequences nested more than " + std::to_string(kMaxDepth) + " deep";
        std::set<uint32_t> seen;
        while (true) {
            if (mode == Mode::nested) {
                if (n - pos < 8) return "truncated: an item of undefined length has no item delimiter";
            } else {
                if (pos == end) return "";
                if (end - pos < 4) {
                    // GDCM stops quietly when fewer than four bytes (a tag) are left at the end.
                    if (depth == 0 && end == n) return "";
                    return "corrupt: " + std::to_string(end - pos) + " stray bytes at the end of an item";
                }
            }
            const uint32_t tag = tag_at(pos, enc.little);
            if ((tag >> 16) == 0xFFFE) {
                if (mode == Mode::nested && tag == kItemEnd) {
                    pos += 8;  // the delimiter's length field is ignored by GDCM
                    return "";
                }
                return "corrupt: unexpected " + tag_text(tag) + at_byte(pos) +
                       (mode == Mode::nested && tag == kSequenceEnd ? " (an item without its delimiter)" : "");
            }
            const size_t before = pos;
            bool element_exact = true;
            std::string r = element(enc, mode == Mode::nested ? n : end, mode == Mode::bounded ? bound_len : kUndefined,
                                    depth, &element_exact);
            if (!r.empty()) return r;
            // (a sequence or pixel data of undefined length runs to its delimiter, wherever that is)
            if (pos > end) return "corrupt: element " + tag_text(tag) + at_byte(before) + " runs past the end of its item";
            if (mode == Mode::bounded && !element_exact)
                return "corrupt: element " + tag_text(tag) + at_byte(before) +
                       " inside an item of defined length is encoded in a way GDCM measures differently";
            if (!element_exact || !seen.insert(tag).second) *exact = false;
        }
    }

    // One element at `pos` that must end by `end`. `bound_len`: the enclosing item's length
    // (GDCM refuses an implicit-VR element declaring more), kUndefined when not in such an item.
    std::string element(Encoding enc, size_t end, uint64_t bound_len, int depth, bool *exact) {
        const size_t start = pos;
        const uint32_t tag = tag_at(pos, enc.little);
        const uint16_t group = uint16_t(tag >> 16);
        uint64_t length = 0;
        size_t value_at = 0;
        gdcm::VR::VRType vr = gdcm::VR::INVALID;
        if (enc.explicit_vr) {
            if (tag == make_tag(0x00FF, 0x4AA5)) return "corrupt: unexpected " + tag_text(tag) + at_byte(start);
            if (end - pos < 8) return "truncated: the header of " + tag_text(tag) + at_byte(start) + " runs past the end";
            const char code[2] = {char(d[pos + 4]), char(d[pos + 5])};
            vr = gdcm::VR::GetVRTypeFromFile(code);
            if (vr == gdcm::VR::INVALID || vr == gdcm::VR::VR_END)
                return "corrupt: element " + tag_text(tag) + at_byte(start) + " has no valid VR in explicit-VR data";
            if (gdcm::VR::GetLength(vr) == 4) {
                if (end - pos < 12) return "truncated: the header of " + tag_text(tag) + at_byte(start) + " runs past the end";
                length = u32(pos + 8, enc.little);
                value_at = pos + 12;
            } else {
                length = u16(pos + 6, enc.little);
                value_at = pos + 8;
                if (length == 6 && vr == gdcm::VR::UL && group == 0x0009) length = 4;  // GDCM's Siemens fix-up
            }
        } else {
            if (end - pos < 8) return "truncated: the header of " + tag_text(tag) + at_byte(start) + " runs past the end";
            length = u32(pos + 4, enc.little);
            value_at = pos + 8;
            if (length != kUndefined && bound_len != kUndefined && length > bound_len)
                return too_long(tag, length, value_at, end);
            // GDCM's fix-ups for two broken writers (it reads fewer bytes than declared)
            if (length == 13 && tag != make_tag(0x0008, 0x0070) && tag != make_tag(0x0008, 0x0080)) length = 10;
            if (length == 0x31F031C && tag == make_tag(0x031E, 0x0324)) length = 202;
        }
        pos = value_at;
        if (length == 0) return "";

        if (enc.explicit_vr && vr == gdcm::VR::SQ) {
            if (tag == kPixelData) return "corrupt: Pixel Data (7FE0,0010) has VR SQ";
            if (length == kUndefined) return undefined_sequence(enc, depth, exact);
            if (length > end - value_at) return too_long(tag, length, value_at, end);
            // GDCM recounts a defined-length sequence from its items; they must add up exactly.
            return defined_sequence(enc, value_at + size_t(length), depth);
        }
        if (length == kUndefined) {
            if (tag == kPixelData) {
                if (enc.explicit_vr && !(vr & gdcm::VR::OB_OW) && vr != gdcm::VR::UN)
                    return "corrupt: encapsulated Pixel Data with VR " + std::string(gdcm::VR::GetVRString(vr));
                return fragments(enc, exact);
            }
            if (!enc.explicit_vr) return undefined_sequence(enc, depth, exact);
            if (vr != gdcm::VR::UN)
                return "corrupt: element " + tag_text(tag) + at_byte(start) + " with VR " + gdcm::VR::GetVRString(vr) +
                       " has an undefined length";
            // UN of undefined length: a sequence whose items are implicit VR (CP-246). GDCM counts
            // it as explicit VR, so it never adds up inside an item of defined length.
            if (!enc.little) return "corrupt: a UN element of undefined length in big-endian data" + at_byte(start);
            *exact = false;
            bool ignored = true;
            return undefined_sequence(Encoding{false, true}, depth, &ignored);
        }
        if (length > end - value_at) return too_long(tag, length, value_at, end);
        if (length % 2) *exact = false;
        // A value GDCM may parse lazily as an implicit-VR sequence (GetValueAsSQ).
        if ((!enc.explicit_vr || vr == gdcm::VR::UN) && dictionary_vr(tag) == gdcm::VR::SQ) {
            std::string r = lazy_sequence(tag, value_at, size_t(length), depth);
            if (!r.empty()) return r;
        }
        pos = value_at + size_t(length);
        return "";
    }

    // An item header at `pos` inside a sequence: (FFFE,E000) + length. Returns the length.
    std::string item_header(Encoding enc, uint32_t *tag, uint64_t *length) {
        if (n - pos < 8) return "truncated: a sequence runs past the end of the file";
        *tag = tag_at(pos, enc.little);
        *length = u32(pos + 4, enc.little);
        if (*tag != kItem && *tag != kSequenceEnd)
            return "corrupt: expected an item in a sequence" + at_byte(pos) + ", found " + tag_text(*tag);
        pos += 8;
        return "";
    }

    std::string item_body(Encoding enc, uint64_t length, size_t limit, int depth, bool *exact) {
        if (length == kUndefined) return dataset(enc, Mode::nested, n, kUndefined, depth + 1, exact);
        if (length > limit - pos)
            return "truncated or corrupt: an item declares " + std::to_string(length) + " bytes but only " +
                   std::to_string(limit - pos) + " remain";
        const size_t item_end = pos + size_t(length);
        bool nested_exact = true;
        std::string r = dataset(enc, Mode::bounded, item_end, length, depth + 1, &nested_exact);
        if (!r.empty()) return r;
        if (!nested_exact) *exact = false;  // duplicate tags: GDCM's item length would come out short
        return "";
    }

    std::string undefined_sequence(Encoding enc, int depth, bool *exact) {
        while (true) {
            uint32_t tag = 0;
            uint64_t length = 0;
            std::string r = item_header(enc, &tag, &length);
            if (!r.empty()) return r;
            if (tag == kSequenceEnd) return "";
            r = item_body(enc, length, n, depth, exact);
            if (!r.empty()) return r;
        }
    }

    // Items of a sequence of defined length ending at `end`: GDCM adds up the items' lengths as it
    // reads them and stops when the sum reaches the declared length, so every item must count
    // exactly what it occupies.
    std::string defined_sequence(Encoding enc, size_t end, int depth) {
        const uint64_t declared = end - pos;
        uint64_t total = 0;
        while (pos < end) {
            if (end - pos < 8) return "corrupt: a sequence of defined length ends inside an item header";
            const size_t at = pos;
            uint32_t tag = 0;
            uint64_t length = 0;
            std::string r = item_header(enc, &tag, &length);
            if (!r.empty()) return r;
            if (tag == kSequenceEnd) return "corrupt: a sequence delimiter inside a sequence of defined length" + at_byte(at);
            bool item_exact = true;
            r = item_body(enc, length, end, depth, &item_exact);
            if (!r.empty()) return r;
            if (pos > end) return "corrupt: the item" + at_byte(at) + " runs past the end of its sequence";
            if (!item_exact) return "corrupt: the item" + at_byte(at) + " does not add up to its sequence's length";
            total += pos - at;
            // GDCM special-cases these exact sums for two Philips files
            if ((declared == 778 && total == 774) || (declared == 444 && total == 213))
                return "corrupt: a sequence of " + std::to_string(declared) + " bytes GDCM reads differently";
        }
        return "";
    }

    // Encapsulated pixel data: a basic offset table item, fragment items, a sequence delimiter.
    std::string fragments(Encoding enc, bool *exact) {
        bool first = true;
        while (true) {
            if (n - pos < 8) return "truncated: encapsulated pixel data has no sequence delimiter";
            const uint32_t tag = tag_at(pos, enc.little);
            const uint64_t length = u32(pos + 4, enc.little);
            const size_t at = pos;
            pos += 8;
            if (tag == kSequenceEnd && !first) {
                if (length != 0) return "corrupt: the pixel data sequence delimiter" + at_byte(at) + " has a non-zero length";
                return "";
            }
            if (tag != kItem)
                return "corrupt: expected a pixel data " + std::string(first ? "offset table" : "fragment") + at_byte(at) +
                       ", found " + tag_text(tag);
            if (length == kUndefined || length > n - pos)
                return "truncated or corrupt: a pixel data fragment declares " + std::to_string(length) +
                       " bytes but only " + std::to_string(n - pos) + " remain";
            if (length % 2) *exact = false;
            pos += size_t(length);
            first = false;
        }
    }

    // The value of `tag` (dictionary VR SQ, stored as bytes) at [at, at + size): GDCM's
    // GetValueAsSQ parses it as implicit VR little endian, then for UN as explicit big and little
    // endian, byte-swapping "Philips" items. Values that do not start like an item are never parsed
    // past their first tag; values that do must be a clean implicit-VR sequence.
    std::string lazy_sequence(uint32_t tag, size_t at, size_t size, int depth) {
        if (size < 4) return "";
        const uint32_t le = tag_at(at, true), be = tag_at(at, false);
        const uint32_t swapped_item = make_tag(0xFEFF, 0x00E0), swapped_end = make_tag(0xFEFF, 0xDDE0);
        if (le != kItem) {
            for (uint32_t t : {le, be})
                if (t == kItem || t == kSequenceEnd || t == swapped_item || t == swapped_end)
                    return "corrupt: the value of " + tag_text(tag) + at_byte(at) + " is a sequence in an encoding GDCM guesses at";
            return "";
        }
        // GDCM parses a copy of the value: its stream ends where the value ends.
        const size_t saved_pos = pos, saved_n = n;
        pos = at;
        n = at + size;
        std::string r = defined_sequence(Encoding{false, true}, at + size, depth + 1);
        pos = saved_pos;
        n = saved_n;
        if (!r.empty()) return "corrupt: the sequence in " + tag_text(tag) + ": " + r;
        return "";
    }
};

// Group 0002 (the file meta information), explicit VR little endian as GDCM's FileMetaInformation
// reads it: valid VRs, defined lengths inside the file, no sequences. Sets `*end` after it.
std::string check_meta(const unsigned char *d, size_t n, size_t start, size_t *end) {
    size_t pos = start;
    while (n - pos >= 4 && read_u16(d + pos, true) == 0x0002) {
        const uint16_t element = read_u16(d + pos + 2, true);
        const std::string name = "file meta element (0002," + hex4(element) + ")";
        if (n - pos < 8) return "truncated: the header of " + name + " runs past the end";
        // GDCM reads an unknown VR code as UN, but its fallback for meta information that does
        // not start with (0002,0000) reads the whole group as implicit VR unless the code is real.
        const char code[3] = {char(d[pos + 4]), char(d[pos + 5]), 0};
        const gdcm::VR::VRType vr = gdcm::VR::GetVRTypeFromFile(code);
        if (!gdcm::VR::IsValid(code) || vr == gdcm::VR::INVALID || vr == gdcm::VR::VR_END)
            return "corrupt: " + name + " has no valid VR (the file meta information must be explicit VR little endian)";
        if (vr == gdcm::VR::SQ) return "corrupt: " + name + " is a sequence";
        uint64_t length;
        size_t value_at;
        if (gdcm::VR::GetLength(vr) == 4) {
            if (n - pos < 12) return "truncated: the header of " + name + " runs past the end";
            length = read_u32(d + pos + 8, true);
            value_at = pos + 12;
        } else {
            length = read_u16(d + pos + 6, true);
            value_at = pos + 8;
        }
        if (length == kUndefined) return "corrupt: " + name + " has an undefined length";
        if (length > n - value_at)
            return "truncated or corrupt: " + name + " declares " + std::to_string(length) + " bytes but only " +
                   std::to_string(n - value_at) + " remain";
        pos = value_at + size_t(length);
    }
    // GDCM reads the next tag to see where group 0002 ends, and asserts when there is none.
    if (pos > start && n - pos < 4) return "corrupt: no data set after the file meta information";
    *end = pos;
    return "";
}

// Raw deflate of the data set after the file meta (PS3.5 A.5), as GDCM's zip stream reads it
// (it appends one zero byte at the end of the input). Must reach the end of the deflate stream.
std::string inflate_data_set(const unsigned char *src, size_t size, std::vector<unsigned char> *out) {
    out->clear();
    if (size >= 2 && src[0] == 0x1F && src[1] == 0x8B) return "corrupt: a gzip header where raw deflate data should be";
    std::vector<unsigned char> input(src, src + size);
    input.push_back(0);
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return "zlib could not be initialised";
    zs.next_in = input.data();
    zs.avail_in = uInt(std::min<size_t>(input.size(), UINT32_MAX));
    // deflate cannot expand more than 1032:1; the absolute cap keeps the copy bounded
    const uint64_t cap = std::min<uint64_t>(kMaxInflated, uint64_t(size) * 1032 + 1024);
    int rc = Z_OK;
    unsigned char chunk[1 << 16];
    while (rc == Z_OK) {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        const size_t produced = sizeof chunk - zs.avail_out;
        if (out->size() + produced > cap) {
            inflateEnd(&zs);
            return "too large: the deflated data set inflates to more than " + std::to_string(cap) + " bytes";
        }
        out->insert(out->end(), chunk, chunk + produced);
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) return "corrupt: the deflated data set does not inflate (zlib: " + std::string(zs.msg ? zs.msg : "truncated") + ")";
    return "";
}

// GDCM's own reading of the preamble and file meta information (gdcm::Reader::InternalReadCommon),
// run on its own so that the check below uses the transfer syntax GDCM will use and starts where
// GDCM's data set starts. Group 0002 has been checked by check_meta.
bool gdcm_header(const char *data, size_t size, gdcm::TransferSyntax *ts, size_t *dataset_start, bool *counted) {
    MemoryBuffer buffer(data, size);
    std::istream is(&buffer);
    gdcm::FileMetaInformation header;
    bool haspreamble = true;
    try {
        header.GetPreamble().Read(is);
    } catch (std::exception &) {
        is.clear();
        is.seekg(0, std::ios::beg);
        haspreamble = false;
    }
    bool hasmeta = false;
    try {
        if (haspreamble) {
            try {
                header.Read(is);
                hasmeta = true;
            } catch (std::exception &) {
                is.seekg(128 + 4, std::ios::beg);
                try {
                    header.ReadCompat(is);
                } catch (std::exception &) {
                }
            }
        } else {
            header.ReadCompat(is);
        }
    } catch (std::exception &) {
        is.seekg(0, std::ios::beg);
        hasmeta = false;
    }
    if (header.IsEmpty()) hasmeta = false;
    *ts = header.GetDataSetTransferSyntax();
    if (!ts->IsValid()) return false;
    const std::streampos at = is.tellg();
    if (at < 0 || size_t(at) > size) return false;
    *dataset_start = size_t(at);
    *counted = ts->GetNegociatedType() == gdcm::TransferSyntax::Implicit && !(hasmeta && haspreamble);
    return true;
}

}  // namespace layout

// The whole check for `bytes` (a complete file); empty when GDCM may parse it.
std::string check_layout(const std::vector<char> &bytes, int *code) {
    const unsigned char *d = reinterpret_cast<const unsigned char *>(bytes.data());
    const size_t n = bytes.size();
    *code = OMNI_DICOM_ERR_CORRUPT;
    size_t start = 0;
    bool explicit_vr = true, little = true;
    if (!plausible_start(d, n, &start, &explicit_vr, &little)) {
        *code = OMNI_DICOM_ERR_NOT_DICOM;
        if (n < 132)
            return "not a DICOM file: " + std::to_string(n) + " bytes, too short for the 128-byte preamble and \"DICM\"";
        return "not a DICOM file: no \"DICM\" marker at byte 128 and no data set at the start";
    }
    size_t meta_end = start;
    std::string problem = layout::check_meta(d, n, start, &meta_end);
    if (!problem.empty()) return problem;
    gdcm::TransferSyntax ts;
    size_t dataset_start = 0;
    bool counted = false;
    if (!layout::gdcm_header(bytes.data(), n, &ts, &dataset_start, &counted))
        return meta_end > start ? "corrupt: the file meta information names no transfer syntax GDCM knows"
                                : "corrupt: no file meta information and no recognisable data set encoding";
    if (dataset_start > n) return "corrupt: the file meta information runs past the end";
    const bool big = ts.GetSwapCode() == gdcm::SwapCode::BigEndian;
    const bool implicit = ts.GetNegociatedType() == gdcm::TransferSyntax::Implicit;
    if (big && implicit) return "unsupported: implicit VR big endian (ACR-NEMA) data";
    if (ts.GetSwapCode() != gdcm::SwapCode::LittleEndian && !big) return "unsupported: an unknown byte order";
    if (ts == gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian) {
        std::vector<unsigned char> inflated;
        problem = layout::inflate_data_set(d + dataset_start, n - dataset_start, &inflated);
        if (!problem.empty()) {
            if (problem.compare(0, 9, "too large") == 0) *code = OMNI_DICOM_ERR_TOO_LARGE;
            return problem;
        }
        layout::Walker walker(inflated.data(), inflated.size());
        problem = walker.top(0, layout::Encoding{true, true}, false);
        return problem.empty() ? "" : problem + " (in the inflated data set)";
    }
    layout::Walker walker(d, n);
    return walker.top(dataset_start, layout::Encoding{!implicit, !big}, counted);
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

// GDCM's ImageReader decodes RLE Lossless pixel data while it opens a file (to find out whether the
// image is lossy), before the shim's own RLE decoder is ever asked. Its decoder indexes the 15
// offsets of the 64-byte RLE header with the header's segment count (reading past it for more
// than 15), divides by that count (zero crashes), asserts on a first offset other than 64, and
// allocates the whole image (rows × columns × frames × pixel size, as the attributes claim) up
// front. So before the ImageReader runs, every RLE header GDCM will read must be sound, and the
// claimed image must be one the encoded data could possibly hold: PackBits expands at most 64:1
// (two bytes for a run of 128). The bound below allows 256:1 because it takes 4 samples per pixel
// whenever GDCM might (it can take the count from the Photometric Interpretation instead).
std::string check_rle_for_gdcm(const gdcm::File &file) {
    if (file.GetHeader().GetDataSetTransferSyntax() != gdcm::TransferSyntax::RLELossless) return "";
    const gdcm::DataSet &ds = file.GetDataSet();
    if (!ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010))) return "";
    const gdcm::SequenceOfFragments *sf = ds.GetDataElement(gdcm::Tag(0x7FE0, 0x0010)).GetSequenceOfFragments();
    if (!sf) return "";  // GDCM's RLE decoder gives up at once on unencapsulated data
    const std::vector<unsigned int> dims = gdcm::ImageHelper::GetDimensionsValue(file);
    const uint64_t frames = dims.size() > 2 && dims[2] > 1 ? dims[2] : 1;
    gdcm::Attribute<0x0028, 0x0002> spp_at = {1};
    spp_at.SetFromDataSet(ds);
    gdcm::Attribute<0x0028, 0x0100> bits_at = {0};
    bits_at.SetFromDataSet(ds);
    const uint64_t spp = std::max<uint64_t>(spp_at.GetValue(), 4);
    const uint64_t sample_bytes = std::max<uint64_t>(1, (uint64_t(bits_at.GetValue()) + 7) / 8);
    const size_t count = sf->GetNumberOfFragments();
    uint64_t encoded = 0;
    for (size_t i = 0; i < count; i++) encoded += sf->GetFragment(unsigned(i)).GetVL();
    const long double claimed = (long double)(dims.size() > 1 ? dims[0] : 0) * (long double)(dims.size() > 1 ? dims[1] : 0) *
                                (long double)frames * (long double)spp * (long double)sample_bytes;
    if (claimed > 256.0L * (long double)encoded + 65536.0L)
        return "RLE Lossless pixel data of " + std::to_string(encoded) + " bytes cannot hold the " +
               std::to_string(dims.size() > 1 ? dims[1] : 0) + " × " + std::to_string(dims.size() > 0 ? dims[0] : 0) +
               " × " + std::to_string(frames) + "-frame image the attributes claim";
    // One header per frame when there are several frames (GDCM skips the decode when the counts
    // differ); with one frame GDCM reads the header at the start of all fragments joined.
    auto header_problem = [](const gdcm::Fragment &frag, uint64_t available, const std::string &where) -> std::string {
        const gdcm::ByteValue *bv = frag.GetByteValue();
        if (!bv || bv->GetLength() < 64) return where + ": fragment shorter than the 64-byte RLE header";
        const unsigned char *p = reinterpret_cast<const unsigned char *>(bv->GetPointer());
        const uint32_t segments = read_u32(p, true);
        if (segments < 1 || segments > 15)
            return where + ": " + std::to_string(segments) + " segments in the RLE header (1 to 15 allowed)";
        if (read_u32(p + 4, true) != 64) return where + ": the first RLE segment does not start at byte 64";
        for (uint32_t s = 0; s < segments; s++)
            if (read_u32(p + 4 + 4 * s, true) > available)
                return where + ": RLE segment " + std::to_string(s + 1) + " starts past the end of the data";
        return "";
    };
    if (frames > 1) {
        if (count != frames) return "";
        for (size_t i = 0; i < count; i++) {
            std::string r = header_problem(sf->GetFragment(unsigned(i)), sf->GetFragment(unsigned(i)).GetVL(),
                                           "RLE frame " + std::to_string(i + 1));
            if (!r.empty()) return r;
        }
        return "";
    }
    if (count == 0) return "RLE Lossless pixel data without fragments";
    return header_problem(sf->GetFragment(0), encoded, "RLE frame 1");
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
    const size_t n = h->bytes.size();
    if (n == 0) throw ShimError(OMNI_DICOM_ERR_EMPTY, "empty file (0 bytes)");
    int code = OMNI_DICOM_ERR_CORRUPT;
    const std::string problem = check_layout(h->bytes, &code);
    if (!problem.empty()) throw ShimError(code, problem);

    h->buffer.reset(new MemoryBuffer(h->bytes.data(), n));
    h->stream.reset(new std::istream(h->buffer.get()));
    h->reader.reset(new gdcm::Reader());
    h->reader->SetStream(*h->stream);
    if (!h->reader->Read()) throw ShimError(OMNI_DICOM_ERR_CORRUPT, "GDCM cannot parse the data set (truncated or corrupt)");

    const gdcm::File &f = h->reader->GetFile();
    gdcm::TransferSyntax tsx = f.GetHeader().GetDataSetTransferSyntax();
    const char *tss = gdcm::TransferSyntax::GetTSString(tsx);
    h->ts_uid = tss ? tss : "";
    gdcm::UIDs uid;
    if (!h->ts_uid.empty() && uid.SetFromUID(h->ts_uid.c_str()) && uid.GetName()) h->ts_name = uid.GetName();

    const gdcm::DataSet &ds = f.GetDataSet();
    const std::string rle_problem = check_rle_for_gdcm(f);
    if (!rle_problem.empty()) {
        h->image_error = rle_problem;
    } else if (ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010)) || ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0008)) ||
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
                int code = OMNI_DICOM_ERR_CORRUPT;
                ok = check_layout(h->patched, &code).empty() && read_image(h, h->patched, &second);
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

// GDCM's JPEG 2000 decoder (3.0) allocates rows × columns × (Bits Allocated / 8) × components
// bytes from the DICOM attributes and then copies every decoded component sample into it, sized by
// the codestream's own SIZ header (width, height, precision) without comparing the two: a
// codestream larger than the attributes say overflows the heap. Every codestream in the pixel data
// must therefore describe exactly the image the attributes do before GDCM decodes it.
void check_j2k_for_gdcm(const gdcm::DataSet &ds, uint64_t rows, uint64_t cols, uint64_t spp, uint64_t bits) {
    if (!ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010))) return;
    const gdcm::SequenceOfFragments *sf = ds.GetDataElement(gdcm::Tag(0x7FE0, 0x0010)).GetSequenceOfFragments();
    if (!sf) return;
    static const unsigned char jp2_signature[12] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    for (unsigned i = 0; i < sf->GetNumberOfFragments(); i++) {
        const gdcm::ByteValue *bv = sf->GetFragment(i).GetByteValue();
        if (!bv) continue;
        const unsigned char *p = reinterpret_cast<const unsigned char *>(bv->GetPointer());
        uint64_t n = bv->GetLength();
        const std::string where = "JPEG 2000 fragment " + std::to_string(i + 1);
        if (n >= 12 && std::memcmp(p, jp2_signature, 12) == 0) {
            // a JP2 file: the codestream is the contents of the 'jp2c' box
            uint64_t at = 0;
            bool found = false;
            while (at + 8 <= n) {
                uint64_t box = read_u32(p + at, false), header = 8;
                if (box == 1) {
                    if (at + 16 > n) break;
                    box = (uint64_t(read_u32(p + at + 8, false)) << 32) | read_u32(p + at + 12, false);
                    header = 16;
                } else if (box == 0) {
                    box = n - at;
                }
                if (box < header || box > n - at) break;
                if (std::memcmp(p + at + 4, "jp2c", 4) == 0) {
                    p += at + header;
                    n = box - header;
                    found = true;
                    break;
                }
                at += box;
            }
            if (!found) throw ShimError(OMNI_DICOM_ERR_DECODE, where + ": a JP2 file without a codestream box");
        }
        if (n < 2 || p[0] != 0xFF || p[1] != 0x4F) continue;  // a continuation of the previous frame
        // SOC, then SIZ: Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz {Ssiz XRsiz YRsiz}
        if (n < 2 + 40 || p[2] != 0xFF || p[3] != 0x51) throw ShimError(OMNI_DICOM_ERR_DECODE, where + ": no SIZ marker after SOC");
        const unsigned char *siz = p + 4;
        const uint64_t x = read_u32(siz + 4, false), y = read_u32(siz + 8, false);
        const uint64_t x0 = read_u32(siz + 12, false), y0 = read_u32(siz + 16, false);
        const uint64_t components = read_u16(siz + 36, false);
        if (n < 4 + 38 + 3 * components) throw ShimError(OMNI_DICOM_ERR_DECODE, where + ": truncated SIZ marker");
        if (x <= x0 || y <= y0 || x - x0 != cols || y - y0 != rows || components != spp)
            throw ShimError(OMNI_DICOM_ERR_CORRUPT,
                            where + ": the codestream is " + std::to_string(y > y0 ? y - y0 : 0) + " × " +
                                std::to_string(x > x0 ? x - x0 : 0) + " with " + std::to_string(components) +
                                " components, the attributes say " + std::to_string(rows) + " × " + std::to_string(cols) +
                                " with " + std::to_string(spp));
        for (uint64_t c = 0; c < components; c++) {
            const unsigned precision = (siz[38 + 3 * c] & 0x7F) + 1u;
            const unsigned subsampling_x = siz[39 + 3 * c], subsampling_y = siz[40 + 3 * c];
            const uint64_t sample_bytes = precision <= 8 ? 1 : precision <= 16 ? 2 : precision <= 32 ? 4 : 8;
            if (subsampling_x != 1 || subsampling_y != 1 || sample_bytes > bits / 8)
                throw ShimError(OMNI_DICOM_ERR_CORRUPT,
                                where + ": component " + std::to_string(c + 1) + " has " + std::to_string(precision) +
                                    "-bit samples subsampled " + std::to_string(subsampling_x) + "×" +
                                    std::to_string(subsampling_y) + ", the attributes say " + std::to_string(bits) +
                                    " bits allocated, no subsampling");
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
            if (gdcm::JPEG2000Codec().CanDecode(ts)) check_j2k_for_gdcm(ds, rows, cols, spp, bits);
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
