/// The regular expressions byte-level BPE tokenizers split text with before merging, implemented as
/// hand-written scanners over Unicode scalars with the regexes' exact semantics (ordered
/// alternation, greedy and possessive quantifiers, the `(?!\S)` look-ahead).
///
/// Swift `Regex` has no possessive quantifiers and is far slower; the scanners run in one pass.
/// Classes follow the Rust `regex` crate tiktoken and Hugging Face use: `\p{L}` is the general
/// categories Lu Ll Lt Lm Lo, `\p{N}` is Nd Nl No, `\s` is the Unicode `White_Space` property.
///
/// ```swift
/// SplitPattern.gpt2.split("don't  stop")   // ["don", "'t", " ", " stop"]
/// ```
public enum SplitPattern: String, Sendable, CaseIterable, Codable {
    /// GPT-2, r50k and Whisper:
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// cl100k_base: `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
    case cl100k

    /// The regular expression this scanner implements, as tiktoken and `tokenizer.json` spell it.
    public var regex: String {
        switch self {
        case .gpt2: #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .cl100k: #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#
        }
    }

    /// The pattern whose regex is `regex` (also accepting tiktoken's equivalent spelling of GPT-2's
    /// contractions, `'(?:[sdmt]|ll|ve|re)`), or nil.
    public init?(regex: String) {
        let gpt2Alternative = #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        if regex == SplitPattern.gpt2.regex || regex == gpt2Alternative {
            self = .gpt2
        } else if regex == SplitPattern.cl100k.regex {
            self = .cl100k
        } else {
            return nil
        }
    }

    /// The pieces of `text`, in order; they concatenate to `text`.
    public func split(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { utf8 in
            var pieces: [String] = []
            forEachPiece(utf8) { pieces.append(String(decoding: UnsafeBufferPointer(rebasing: utf8[$0]), as: UTF8.self)) }
            return pieces
        }
    }

    /// Calls `body` with the byte range of each piece of the valid UTF-8 text `utf8`, in order.
    func forEachPiece(_ utf8: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let text = ScalarText(utf8)
        text.scalars.withUnsafeBufferPointer { scalars in
            text.classes.withUnsafeBufferPointer { classes in
                let n = scalars.count
                var i = 0
                while i < n {
                    let end = switch self {
                    case .gpt2: gpt2PieceEnd(scalars, classes, i)
                    case .cl100k: cl100kPieceEnd(scalars, classes, i)
                    }
                    body(text.offsets[i] ..< text.offsets[end])
                    i = end
                }
            }
        }
    }
}

// Scalar classes, as bits.
private let letter: UInt8 = 1
private let number: UInt8 = 2
private let space: UInt8 = 4
/// `\r` or `\n` (also marked `space`).
private let newline: UInt8 = 8
private let apostrophe: UInt32 = 0x27

/// Classes of the Basic Multilingual Plane, computed once: the Unicode property lookups are the
/// slowest part of splitting otherwise.
private let bmpClasses: [UInt8] = (0 ..< 0x10000).map { classify(UInt32($0)) }

private func classify(_ value: UInt32) -> UInt8 {
    guard let scalar = Unicode.Scalar(value) else { return 0 }
    let properties = scalar.properties
    var c: UInt8 = 0
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: c = letter
    case .decimalNumber, .letterNumber, .otherNumber: c = number
    default: break
    }
    if properties.isWhitespace { c |= space }
    if value == 0x0A || value == 0x0D { c |= newline }
    return c
}

/// A text as Unicode scalars with their classes and UTF-8 offsets (`offsets[i]` is where scalar `i`
/// starts; `offsets[count]` is the byte count).
private struct ScalarText {
    var scalars: [UInt32] = []
    var classes: [UInt8] = []
    var offsets: [Int] = []

    init(_ utf8: UnsafeBufferPointer<UInt8>) {
        scalars.reserveCapacity(utf8.count)
        classes.reserveCapacity(utf8.count)
        offsets.reserveCapacity(utf8.count + 1)
        var k = 0
        let n = utf8.count
        while k < n {
            let b0 = UInt32(utf8[k])
            var value: UInt32
            var length: Int
            // The bytes come from a Swift String, so they are valid UTF-8.
            if b0 < 0x80 {
                value = b0; length = 1
            } else if b0 < 0xE0 {
                value = (b0 & 0x1F) << 6 | UInt32(utf8[k + 1] & 0x3F); length = 2
            } else if b0 < 0xF0 {
                value = (b0 & 0x0F) << 12 | UInt32(utf8[k + 1] & 0x3F) << 6 | UInt32(utf8[k + 2] & 0x3F)
                length = 3
            } else {
                value = (b0 & 0x07) << 18 | UInt32(utf8[k + 1] & 0x3F) << 12
                    | UInt32(utf8[k + 2] & 0x3F) << 6 | UInt32(utf8[k + 3] & 0x3F)
                length = 4
            }
            scalars.append(value)
            classes.append(value < 0x10000 ? bmpClasses[Int(value)] : classify(value))
            offsets.append(k)
            k += length
        }
        offsets.append(n)
    }
}

/// The end of the run of scalars from `i` whose class has any bit of `mask`.
@inline(__always)
private func run(_ classes: UnsafeBufferPointer<UInt8>, from i: Int, _ mask: UInt8) -> Int {
    var j = i
    while j < classes.count && classes[j] & mask != 0 { j += 1 }
    return j
}

/// The end of the run of "other" scalars (not letter, number or space) from `i`.
@inline(__always)
private func otherRun(_ classes: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
    var j = i
    while j < classes.count && classes[j] & (letter | number | space) == 0 { j += 1 }
    return j
}

@inline(__always)
private func isOther(_ c: UInt8) -> Bool { c & (letter | number | space) == 0 }

/// `\s+(?!\S)|\s+` at a space scalar `i`: the whole run at the end of the text, else the run less
/// its last scalar (which is followed by a non-space), else the single space.
@inline(__always)
private func trailingSpacesEnd(_ classes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let j = run(classes, from: i, space)
    if j == classes.count { return j }
    return j - i >= 2 ? j - 1 : j
}

/// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
private func gpt2PieceEnd(_ s: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let n = s.count
    if s[i] == apostrophe && i + 1 < n {
        switch s[i + 1] {
        case 0x73, 0x74, 0x6D, 0x64: return i + 2  // s t m d
        case 0x72, 0x76: if i + 2 < n && s[i + 2] == 0x65 { return i + 3 }  // re ve
        case 0x6C: if i + 2 < n && s[i + 2] == 0x6C { return i + 3 }  // ll
        default: break
        }
    }
    // ` ?X+` for X in letters, numbers, others: the optional space is taken when X follows it.
    let start = s[i] == 0x20 && i + 1 < n && c[i + 1] & space == 0 ? i + 1 : i
    let k = c[start]
    if k & letter != 0 { return run(c, from: start, letter) }
    if k & number != 0 { return run(c, from: start, number) }
    if isOther(k) { return otherRun(c, from: start) }
    return trailingSpacesEnd(c, i)
}

/// cl100k: `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`.
private func cl100kPieceEnd(_ s: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let n = s.count
    if s[i] == apostrophe && i + 1 < n {
        // Case-insensitive as the regex crate folds: `s` also matches U+017F LATIN SMALL LETTER LONG S.
        let a = s[i + 1] | 0x20
        if a == 0x73 || a == 0x64 || a == 0x6D || a == 0x74 || s[i + 1] == 0x17F { return i + 2 }
        if i + 2 < n {
            let b = s[i + 2] | 0x20
            if (a == 0x6C && b == 0x6C) || (a == 0x76 && b == 0x65) || (a == 0x72 && b == 0x65) { return i + 3 }
        }
    }
    let k = c[i]
    // `[^\r\n\p{L}\p{N}]?+\p{L}+`: possessive, so a leading scalar not followed by a letter fails.
    if k & letter != 0 { return run(c, from: i, letter) }
    if k & (number | newline) == 0 && i + 1 < n && c[i + 1] & letter != 0 { return run(c, from: i + 1, letter) }
    // `\p{N}{1,3}`
    if k & number != 0 { return min(run(c, from: i, number), i + 3) }
    // ` ?[^\s\p{L}\p{N}]++[\r\n]*`
    let start = s[i] == 0x20 && i + 1 < n && isOther(c[i + 1]) ? i + 1 : i
    if isOther(c[start]) { return run(c, from: otherRun(c, from: start), newline) }
    // `\s*[\r\n]`: the space run up to and including its last newline.
    let j = run(c, from: i, space)
    var last = j - 1
    while last >= i && c[last] & newline == 0 { last -= 1 }
    if last >= i { return last + 1 }
    return trailingSpacesEnd(c, i)
}
