import Foundation

extension Signal {
    /// Reads a CSV (or TSV, or whitespace-separated) file of numbers: one row per time step, one
    /// column per channel, an optional header row and an optional time column (see
    /// ``CSVSignalOptions`` for what is detected and how).
    ///
    /// Every bad row throws a ``SignalError`` naming the file and the line: ragged rows, fields
    /// that are not numbers, values that overflow float32, a time column that does not increase
    /// or steps irregularly, unterminated quotes, a file with no data rows, more than
    /// ``Signal/maxChannels`` columns or ``Signal/maxValues`` values, or a file over
    /// ``CSVSignalOptions/maxFileBytes``. `nan` fields are read as NaN (missing values).
    ///
    /// ```swift
    /// let s = try Signal(csvContentsOf: "imu.csv")      // t,ax,ay,az → 3 channels, rate from t
    /// ```
    public init(csvContentsOf path: String, options: CSVSignalOptions = .init()) throws(SignalError) {
        let bytes = try SignalFileReader.read(path, maxBytes: options.maxFileBytes)
        self = try CSVSignalParser(bytes: bytes, source: path, options: options).parse()
    }

    /// Reads CSV text held in memory; errors name `source`.
    public init(csv text: String, source: String = "<csv>", options: CSVSignalOptions = .init()) throws(SignalError) {
        let bytes = Array(text.utf8)
        guard bytes.count <= options.maxFileBytes else {
            throw SignalError(file: source, "\(bytes.count) bytes exceeds the \(options.maxFileBytes)-byte limit")
        }
        self = try CSVSignalParser(bytes: bytes, source: source, options: options).parse()
    }
}

/// The CSV reader behind ``Signal/init(csvContentsOf:options:)``: works on the raw bytes, one line
/// at a time, so memory stays at the values read plus one row.
struct CSVSignalParser {
    let bytes: [UInt8]
    let source: String
    let options: CSVSignalOptions

    /// How a line splits into fields.
    enum Splitter: Equatable {
        case byte(UInt8)
        case whitespace
        case none
    }

    /// A line of the file without its line break: 1-based number and byte range.
    struct Line {
        let number: Int
        let range: Range<Int>
    }

    enum Kind { case blank, comment, content }

    static let quote = UInt8(ascii: "\""), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
    /// How many content lines the delimiter and header detection look at.
    static let sampleLines = 20

    func error(_ line: Int?, _ message: String) -> SignalError { SignalError(file: source, line: line, message) }

    /// Calls `body` for each line from `start` until it returns false.
    func forEachLine(_ body: (Line) throws(SignalError) -> Bool) throws(SignalError) {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var number = 1
        let n = bytes.count
        while start < n {
            var end = start
            while end < n && bytes[end] != Self.newline { end += 1 }
            var contentEnd = end
            if contentEnd > start && bytes[contentEnd - 1] == Self.carriageReturn { contentEnd -= 1 }
            if try !body(Line(number: number, range: start..<contentEnd)) { return }
            start = end + 1
            number += 1
        }
    }

    func kind(of line: Line) -> Kind {
        var i = line.range.lowerBound
        while i < line.range.upperBound && (bytes[i] == Self.space || bytes[i] == Self.tab) { i += 1 }
        if i == line.range.upperBound { return .blank }
        if let prefix = options.commentPrefix, !prefix.isEmpty {
            let p = Array(prefix.utf8)
            if line.range.upperBound - i >= p.count && bytes[i..<(i + p.count)].elementsEqual(p) { return .comment }
        }
        return .content
    }

    /// The line after its comment prefix.
    func uncommented(_ line: Line) -> Line {
        var i = line.range.lowerBound
        while i < line.range.upperBound && (bytes[i] == Self.space || bytes[i] == Self.tab) { i += 1 }
        let skip = options.commentPrefix.map { $0.utf8.count } ?? 0
        return Line(number: line.number, range: Swift.min(i + skip, line.range.upperBound)..<line.range.upperBound)
    }

    /// The field ranges of `line` (quotes kept; a delimiter inside double quotes does not split).
    func split(_ line: Line, _ splitter: Splitter) throws(SignalError) -> [Range<Int>] {
        let lo = line.range.lowerBound, hi = line.range.upperBound
        switch splitter {
        case .none:
            return [lo..<hi]
        case .whitespace:
            var fields: [Range<Int>] = []
            var i = lo
            while i < hi {
                while i < hi && (bytes[i] == Self.space || bytes[i] == Self.tab) { i += 1 }
                if i == hi { break }
                let s = i
                while i < hi && bytes[i] != Self.space && bytes[i] != Self.tab { i += 1 }
                fields.append(s..<i)
            }
            return fields
        case .byte(let d):
            var fields: [Range<Int>] = []
            var i = lo, fieldStart = lo, inQuotes = false
            while i < hi {
                let b = bytes[i]
                if inQuotes {
                    if b == Self.quote {
                        if i + 1 < hi && bytes[i + 1] == Self.quote { i += 2; continue }
                        inQuotes = false
                    }
                } else if b == Self.quote {
                    inQuotes = true
                } else if b == d {
                    fields.append(fieldStart..<i)
                    fieldStart = i + 1
                }
                i += 1
            }
            if inQuotes { throw error(line.number, "unterminated quote") }
            fields.append(fieldStart..<hi)
            return fields
        }
    }

    /// The field without surrounding spaces and double quotes.
    func trimmed(_ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi && (bytes[lo] == Self.space || bytes[lo] == Self.tab) { lo += 1 }
        while hi > lo && (bytes[hi - 1] == Self.space || bytes[hi - 1] == Self.tab) { hi -= 1 }
        if hi - lo >= 2 && bytes[lo] == Self.quote && bytes[hi - 1] == Self.quote {
            lo += 1; hi -= 1
            while lo < hi && (bytes[lo] == Self.space || bytes[lo] == Self.tab) { lo += 1 }
            while hi > lo && (bytes[hi - 1] == Self.space || bytes[hi - 1] == Self.tab) { hi -= 1 }
        }
        return lo..<hi
    }

    /// The field as text (a header name): trimmed, unquoted, `""` → `"`.
    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[trimmed(range)], as: UTF8.self).replacingOccurrences(of: "\"\"", with: "\"")
    }

    /// The field's text for an error message, shortened.
    func shown(_ range: Range<Int>) -> String {
        let t = String(decoding: bytes[range], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return t.count > 40 ? String(t.prefix(40)) + "…" : t
    }

    /// The field as a number (C-locale `strtod` syntax: decimal or hex, `inf`, `nan`), or nil.
    func number(_ range: Range<Int>) -> Double? {
        let r = trimmed(range)
        let n = r.count
        guard n > 0, n <= 128 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
            for i in 0..<n { buf[i] = CChar(bitPattern: bytes[r.lowerBound + i]) }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(buf.baseAddress!, &end)
            guard let end, end - buf.baseAddress! == n else { return nil }
            return value
        }
    }

    func allNumeric(_ line: Line, _ splitter: Splitter) -> Bool {
        guard let fields = try? split(line, splitter) else { return false }
        return fields.allSatisfy { number($0) != nil }
    }

    /// Picks the splitter from the first content lines (`sample[0]` may be a header): the candidate
    /// that splits the first line into more than one field and, in this order of preference, splits
    /// every sampled line the same way, gives numbers on the data lines, agrees on the most lines;
    /// ties go to the earlier candidate (`,` `\t` `;` `|` whitespace). One column when none splits.
    func detectSplitter(_ sample: [Line]) -> Splitter {
        let delimiters: [Unicode.Scalar] = [",", "\t", ";", "|"]
        var candidates: [Splitter] = delimiters.map { .byte(UInt8(ascii: $0)) }
        candidates.append(.whitespace)
        var best: (splitter: Splitter, score: (Int, Int, Int))?
        for candidate in candidates {
            // A line the candidate cannot split (an unterminated quote) agrees with nothing.
            let counts = sample.map { (try? split($0, candidate).count) ?? -1 }
            guard let first = counts.first, first > 1 else { continue }
            let agreeing = sample.indices.filter { counts[$0] == first }
            let data = agreeing.count > 1 ? agreeing.dropFirst() : agreeing[...]
            let numeric = data.allSatisfy { allNumeric(sample[$0], candidate) }
            let score = (agreeing.count == sample.count ? 1 : 0, numeric ? 1 : 0, agreeing.count)
            if best == nil || score > best!.score { best = (candidate, score) }
        }
        return best?.splitter ?? .none
    }

    func splitter() throws(SignalError) -> Splitter? {
        switch options.delimiter {
        case .auto: return nil
        case .whitespace: return .whitespace
        case .character(let c):
            guard let ascii = c.asciiValue, c != "\"", c != "\n", c != "\r" else {
                throw error(nil, "delimiter \(c.debugDescription) must be one ASCII character other than a quote or line break")
            }
            return .byte(ascii)
        }
    }

    /// The unit a time column name implies (`time_ms` → milliseconds), nil when the name is not a
    /// time column name.
    static func timeUnit(ofColumnNamed name: String) -> CSVSignalOptions.TimeUnit? {
        let tokens = name.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        guard let first = tokens.first, tokens.count <= 2 else { return nil }
        func unit(_ word: String) -> CSVSignalOptions.TimeUnit? {
            switch word {
            case "s", "sec", "secs", "second", "seconds": .seconds
            case "ms", "msec", "millis", "millisecond", "milliseconds": .milliseconds
            case "us", "µs", "μs", "usec", "micros", "microsecond", "microseconds": .microseconds
            case "ns", "nsec", "nanos", "nanosecond", "nanoseconds": .nanoseconds
            default: nil
            }
        }
        let timeWords: Set<String> = ["t", "time", "times", "timestamp", "elapsed"]
        if tokens.count == 2 {
            guard timeWords.contains(first) || first == "elapsed", let u = unit(tokens[1]) else { return nil }
            return u
        }
        if timeWords.contains(first) { return .seconds }
        // A bare unit word names a time column ("seconds", "ms"), except the ambiguous "s".
        return first == "s" ? nil : unit(first)
    }

    func parse() throws(SignalError) -> Signal {
        // First content lines (for detection) and the comment line right before the first one.
        var sample: [Line] = []
        var lastComment: Line?, commentBeforeData: Line?
        try forEachLine { line throws(SignalError) in
            switch kind(of: line) {
            case .blank: break
            case .comment: if sample.isEmpty { lastComment = line }
            case .content:
                if sample.isEmpty { commentBeforeData = lastComment }
                sample.append(line)
            }
            return sample.count < Self.sampleLines
        }
        guard let firstLine = sample.first else { throw error(nil, "no data rows (the file has no non-comment lines)") }
        let split = try splitter() ?? detectSplitter(sample)

        // Header
        let firstFields = try self.split(firstLine, split)
        var names: [String]?
        var headerLine: Int?
        switch options.header {
        case .present:
            names = firstFields.map(text); headerLine = firstLine.number
        case .absent:
            break
        case .auto:
            if !firstFields.allSatisfy({ number($0) != nil }) {
                names = firstFields.map(text); headerLine = firstLine.number
            } else if let comment = commentBeforeData {
                let c = uncommented(comment)
                if let fields = try? self.split(c, split), fields.count == firstFields.count,
                   !fields.allSatisfy({ number($0) != nil }) {
                    names = fields.map(text)
                }
            }
        }
        let fieldCount = firstFields.count
        if var n = names {
            for i in n.indices where n[i].isEmpty { n[i] = "col\(i)" }
            names = n
        }

        // Time column
        var timeIndex: Int?
        switch options.timeColumn {
        case .none: break
        case .auto:
            timeIndex = names?.firstIndex { Self.timeUnit(ofColumnNamed: $0) != nil }
        case .index(let i):
            guard i >= 0 && i < fieldCount else {
                throw error(nil, "time column index \(i) is out of range for \(fieldCount) columns")
            }
            timeIndex = i
        case .named(let name):
            guard let names else { throw error(nil, "time column '\(name)' requested but the file has no header") }
            guard let i = names.firstIndex(of: name) else {
                throw error(headerLine, "no column named '\(name)' (columns: \(names.joined(separator: ", ")))")
            }
            timeIndex = i
        }
        let channels = fieldCount - (timeIndex == nil ? 0 : 1)
        guard channels > 0 else { throw error(headerLine ?? firstLine.number, "the time column is the only column: no channels") }
        guard channels <= Signal.maxChannels else {
            throw error(headerLine ?? firstLine.number, "\(channels) channels exceeds the limit of \(Signal.maxChannels)")
        }
        let columnNames = names ?? (0..<fieldCount).map { "col\($0)" }
        let channelNames: [String] = names.map { n in n.indices.filter { $0 != timeIndex }.map { n[$0] } }
            ?? Signal.defaultNames(channels)
        var unit = options.timeUnit ?? .seconds
        if options.timeUnit == nil, let t = timeIndex, let n = names, let u = Self.timeUnit(ofColumnNamed: n[t]) { unit = u }

        // Rows
        var rows: [Float] = []             // [S, C] row-major
        var times: [Double] = [], timeLines: [Int] = []
        let maxRows = Signal.maxValues / channels
        var rowCount = 0
        let reference = headerLine.map { "as in the header on line \($0)" } ?? "as on line \(firstLine.number)"
        try forEachLine { line throws(SignalError) in
            guard kind(of: line) == .content, line.number != headerLine else { return true }
            let fields = try self.split(line, split)
            guard fields.count == fieldCount else {
                throw error(line.number, "\(fields.count) field\(fields.count == 1 ? "" : "s"), expected \(fieldCount) (\(reference))")
            }
            guard rowCount < maxRows else {
                throw error(line.number, "more than \(Signal.maxValues) values (\(channels) channels × \(maxRows) rows)")
            }
            for (i, f) in fields.enumerated() {
                let t = trimmed(f)
                guard !t.isEmpty else { throw error(line.number, "column \(i + 1) ('\(columnNames[i])') is empty") }
                guard let v = number(f) else {
                    throw error(line.number, "column \(i + 1) ('\(columnNames[i])'): '\(shown(f))' is not a number")
                }
                if i == timeIndex {
                    guard v.isFinite else { throw error(line.number, "time '\(shown(f))' is not finite") }
                    times.append(v * unit.seconds); timeLines.append(line.number)
                } else {
                    if v.isFinite && Swift.abs(v) > Double(Float.greatestFiniteMagnitude) {
                        throw error(line.number, "column \(i + 1) ('\(columnNames[i])'): \(shown(f)) overflows float32")
                    }
                    rows.append(Float(v))
                }
            }
            rowCount += 1
            return true
        }
        guard rowCount > 0 else {
            throw error(headerLine, headerLine == nil ? "no data rows" : "a header but no data rows")
        }

        let rate = try sampleRate(times: times, lines: timeLines, hasTimeColumn: timeIndex != nil)
        // [S, C] → [C, S]
        var samples = [Float](repeating: 0, count: rows.count)
        rows.withUnsafeBufferPointer { r in
            samples.withUnsafeMutableBufferPointer { s in
                for t in 0..<rowCount { for c in 0..<channels { s[c * rowCount + t] = r[t * channels + c] } }
            }
        }
        return Signal(samples: samples, channelCount: channels, sampleRate: rate, channelNames: channelNames)
    }

    /// The sample rate: from the time column (mean step, every step within the tolerance of it),
    /// checked against the given rate when both exist.
    func sampleRate(times: [Double], lines: [Int], hasTimeColumn: Bool) throws(SignalError) -> Double {
        if let given = options.sampleRate {
            guard given > 0 && given.isFinite else { throw error(nil, "sample rate \(given) must be positive and finite") }
        }
        guard hasTimeColumn else {
            guard let given = options.sampleRate else {
                throw error(nil, "no time column found: give the sample rate (CSVSignalOptions.sampleRate, --sample-rate)")
            }
            return given
        }
        for i in 1..<Swift.max(times.count, 1) where times[i] <= times[i - 1] {
            throw error(lines[i], "time \(times[i]) s does not increase (previous \(times[i - 1]) s on line \(lines[i - 1]))")
        }
        guard times.count >= 2 else {
            guard let given = options.sampleRate else {
                throw error(lines.first, "a single row: the time column cannot give a sample rate; give it explicitly")
            }
            return given
        }
        let step = (times[times.count - 1] - times[0]) / Double(times.count - 1)
        let tolerance = options.timeTolerance
        for i in 1..<times.count {
            let d = times[i] - times[i - 1]
            if Swift.abs(d - step) > tolerance * step {
                throw error(lines[i], "irregular sampling: step \(d) s against a mean of \(step) s "
                            + "(more than \(tolerance * 100)% off; resample the data first or raise the tolerance)")
            }
        }
        var implied = 1 / step
        // Undo floating-point noise from decimal time stamps (0.01 s steps → 100 Hz, not 99.99999999).
        let snapped = (implied * 1000).rounded() / 1000
        if Swift.abs(snapped - implied) <= 1e-6 * implied { implied = snapped }
        if let given = options.sampleRate {
            guard Swift.abs(implied - given) <= tolerance * given else {
                throw error(nil, "the time column implies \(implied) Hz but the sample rate given is \(given) Hz")
            }
            return given
        }
        return implied
    }
}
