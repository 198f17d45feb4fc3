import Foundation

/// Cleans text before tokenisation: Unicode normalisation (NFC or NFKC), removal of control and
/// invisible format characters, and whitespace collapsing. Bytes are decoded as strict UTF-8;
/// invalid input throws a ``TextError`` naming the source, line and byte offset.
///
/// - `.nfc` composes canonically equivalent sequences (`e` + U+0301 → `é`) and changes nothing
///   visible; `.nfkc` also folds compatibility characters (`ﬁ` → `fi`, `①` → `1`, full-width
///   `Ａ` → `A`, U+00A0 → space), which suits matching and search better than display.
/// - Control characters: Unicode category Cc except the whitespace ones (tab, LF, VT, FF, CR,
///   NEL — left to the whitespace rule), and format characters (Cf: U+200B zero-width space, U+FEFF byte
///   order mark, U+00AD soft hyphen, bidi controls…) except U+200C/U+200D (ZWNJ/ZWJ), which
///   shape scripts and emoji sequences.
/// - Whitespace: `.collapse` turns every run of Unicode whitespace into one space and trims the
///   ends; `.collapsePreservingNewlines` keeps line breaks (a run containing a newline becomes
///   `\n`, or `\n\n` for a blank line) and collapses the rest.
///
/// ```swift
/// let n = TextNormalizer()                                  // NFC, controls removed, collapse
/// n.normalize("  Cafe\u{301}\u{200B}  au\tlait ")           // "Café au lait"
/// let text = try n.normalize(contentsOf: "report.txt")      // throws on invalid UTF-8
/// ```
public struct TextNormalizer: Sendable, Equatable {
    public enum Form: String, Sendable, Equatable, CaseIterable {
        /// No Unicode normalisation.
        case none
        /// Canonical composition.
        case nfc
        /// Compatibility composition.
        case nfkc
    }

    public enum Whitespace: String, Sendable, Equatable, CaseIterable {
        /// Leave whitespace as it is.
        case keep
        /// Every run of whitespace → one space; ends trimmed.
        case collapse
        /// Runs within a line → one space; line breaks kept (at most one blank line); lines trimmed.
        case collapsePreservingNewlines
    }

    public var form: Form
    public var whitespace: Whitespace
    public var removesControlCharacters: Bool

    public init(form: Form = .nfc, whitespace: Whitespace = .collapse, removesControlCharacters: Bool = true) {
        self.form = form
        self.whitespace = whitespace
        self.removesControlCharacters = removesControlCharacters
    }

    /// The normalised text.
    public func normalize(_ text: String) -> String {
        var s: String
        switch form {
        case .none: s = text
        case .nfc: s = text.precomposedStringWithCanonicalMapping
        case .nfkc: s = text.precomposedStringWithCompatibilityMapping
        }
        if removesControlCharacters {
            var scalars = String.UnicodeScalarView()
            for u in s.unicodeScalars where !Self.isRemovable(u) { scalars.append(u) }
            s = String(scalars)
        }
        switch whitespace {
        case .keep: return s
        case .collapse: return Self.collapse(s, keepNewlines: false)
        case .collapsePreservingNewlines: return Self.collapse(s, keepNewlines: true)
        }
    }

    /// Decodes `bytes` as strict UTF-8 (a leading byte order mark is dropped) and normalises it.
    public func normalize(_ bytes: [UInt8], source: String) throws(TextError) -> String {
        try normalize(Self.decode(bytes, source: source))
    }

    /// Reads and normalises a UTF-8 text file.
    public func normalize(contentsOf path: String, maxBytes: Int = 1 << 30) throws(TextError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TextError(source: path, offset: 0, line: 1, "cannot be opened for reading (missing or not a file)")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maxBytes + 1) ?? Data() } catch {
            throw TextError(source: path, offset: 0, line: 1, "read failed (\(error.localizedDescription))")
        }
        guard data.count <= maxBytes else {
            throw TextError(source: path, offset: maxBytes, line: 1, "longer than the \(maxBytes)-byte limit")
        }
        return try normalize([UInt8](data), source: path)
    }

    /// Strict UTF-8 decoding: the string, or a ``TextError`` at the first invalid byte.
    public static func decode(_ bytes: [UInt8], source: String) throws(TextError) -> String {
        if let (offset, line, reason) = bytes.withUnsafeBufferPointer({ UTF8Validation.firstError(in: $0) }) {
            throw TextError(source: source, offset: offset, line: line, reason)
        }
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]
        return String(decoding: body, as: UTF8.self)
    }

    static func isRemovable(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .control: return !u.properties.isWhitespace
        case .format: return !(u.value == 0x200C || u.value == 0x200D)
        default: return false
        }
    }

    /// Line breaks for `.collapsePreservingNewlines`: LF, CR (CR LF counts once), VT, FF, NEL,
    /// U+2028, U+2029.
    static func isLineBreak(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }

    static func collapse(_ s: String, keepNewlines: Bool) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false, pendingBreaks = 0
        var previous: Unicode.Scalar?
        for u in s.unicodeScalars {
            defer { previous = u }
            if u.properties.isWhitespace {
                if isLineBreak(u) && !(u == "\n" && previous == "\r") { pendingBreaks += 1 }
                pendingSpace = true
                continue
            }
            if !out.isEmpty {
                if keepNewlines && pendingBreaks > 0 {
                    out.append("\n")
                    if pendingBreaks > 1 { out.append("\n") }
                } else if pendingSpace {
                    out.append(" ")
                }
            }
            pendingSpace = false
            pendingBreaks = 0
            out.append(u)
        }
        return String(out)
    }
}
