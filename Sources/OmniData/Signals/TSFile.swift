import OmniTensor

/// A time-series classification (or regression) dataset in the `.ts` format of the UEA/UCR
/// archives, as shipped by sktime and aeon (e.g. `BasicMotions_TRAIN.ts`: 6-axis IMU, 4 classes).
///
/// The format: `#` comment lines, then header tags — `@problemName`, `@timeStamps`, `@missing`,
/// `@univariate`, `@dimensions`, `@equalLength`, `@seriesLength`, `@classLabel true|false [labels…]`,
/// `@targetLabel true|false` — then `@data` and one case per line: the dimensions separated by
/// `:`, the values of one dimension by `,`, the class label (or regression target) last. `?` or
/// `NaN` marks a missing value (read as NaN). With `@timeStamps true` each dimension is a list of
/// `(time,value)` pairs and, as in aeon's loader, the values are kept and the times dropped.
/// Cases may differ in length unless `@equalLength true`; every dimension of one case has the same
/// length.
///
/// Every inconsistency throws a ``SignalError`` naming the file and line: a case with the wrong
/// number of dimensions, dimensions of different lengths, a length other than `@seriesLength`, a
/// value that is not a number, a label not among the declared classes, a missing label, data
/// before `@data` or none after it.
///
/// ```swift
/// let train = try TSFile(contentsOf: "BasicMotions_TRAIN.ts")
/// let x = try train.tensor()            // [40, 6, 100]
/// let y = try train.labelIndices()      // 0..<4, in the order of train.classLabels
/// ```
public struct TSFile: Sendable {
    /// One time series and its label.
    public struct Case: Sendable, Equatable {
        /// Channel-major values: `values[c * length + t]`.
        public let values: [Float]
        public let channelCount: Int
        public let length: Int
        /// The class label or regression target as written (nil when the file has neither).
        public let label: String?
        /// The 1-based line the case is on.
        public let line: Int

        /// The values as a `[C, length]` tensor.
        public func tensor() -> Tensor { Tensor(values, shape: [channelCount, length]) }
    }

    /// The file the dataset was read from.
    public let source: String
    public let problemName: String?
    public let hasTimestamps: Bool
    public let hasMissingValues: Bool
    public let isUnivariate: Bool?
    public let isEqualLength: Bool
    /// `@seriesLength`, when declared.
    public let seriesLength: Int?
    /// The declared class labels (`@classLabel true …`), in declaration order; empty otherwise.
    public let classLabels: [String]
    /// Whether the last field is a regression target (`@targetLabel true`).
    public let isRegression: Bool
    /// Number of channels (dimensions) of every case.
    public let channelCount: Int
    public let cases: [Case]

    /// Reads and checks a `.ts` file (at most `maxFileBytes`).
    public init(contentsOf path: String, maxFileBytes: Int = Signal.maxFileBytes) throws(SignalError) {
        let bytes = try SignalFileReader.read(path, maxBytes: maxFileBytes)
        try self.init(bytes: bytes, source: path)
    }

    /// Reads `.ts` text held in memory; errors name `source`.
    public init(text: String, source: String = "<ts>") throws(SignalError) {
        try self.init(bytes: Array(text.utf8), source: source)
    }

    init(bytes: [UInt8], source: String) throws(SignalError) {
        var parser = TSParser(source: source)
        try parser.parse(bytes)
        guard parser.inData else { throw SignalError(file: source, "no @data section") }
        guard !parser.cases.isEmpty else { throw SignalError(file: source, "no cases after @data") }
        self.source = source
        problemName = parser.problemName
        hasTimestamps = parser.timestamps
        hasMissingValues = parser.missing
        isUnivariate = parser.univariate
        isEqualLength = parser.equalLength
        seriesLength = parser.seriesLength
        classLabels = parser.classLabels ?? []
        isRegression = parser.targetLabel
        channelCount = parser.channels ?? 0
        cases = parser.cases
    }

    /// Number of cases.
    public var count: Int { cases.count }

    /// All cases as one `[N, C, S]` tensor; throws when the lengths differ.
    public func tensor() throws(SignalError) -> Tensor {
        let length = cases[0].length
        if let other = cases.first(where: { $0.length != length }) {
            throw SignalError(file: source, line: other.line,
                              "cases differ in length (\(other.length) here, \(length) on line \(cases[0].line)): no single tensor")
        }
        var all = [Float]()
        all.reserveCapacity(cases.count * channelCount * length)
        for c in cases { all += c.values }
        return Tensor(all, shape: [cases.count, channelCount, length])
    }

    /// The labels as indices into ``classLabels``.
    public func labelIndices() throws(SignalError) -> [Int] {
        guard !classLabels.isEmpty else { throw SignalError(file: source, "the file declares no class labels") }
        var indices: [Int] = []
        for c in cases {
            guard let label = c.label, let i = classLabels.firstIndex(of: label) else {
                throw SignalError(file: source, line: c.line, "label \(c.label ?? "(none)") is not a declared class")
            }
            indices.append(i)
        }
        return indices
    }

    /// Case `index` as a ``Signal`` (the `.ts` format records no sample rate: give it).
    public func signal(at index: Int, sampleRate: Double, channelNames: [String]? = nil) -> Signal {
        let c = cases[index]
        return Signal(samples: c.values, channelCount: c.channelCount, sampleRate: sampleRate, channelNames: channelNames)
    }
}

/// The line-by-line reader behind ``TSFile``.
struct TSParser {
    let source: String
    var problemName: String?
    var timestamps = false, missing = false, univariate: Bool?, equalLength = false, targetLabel = false
    var seriesLength: Int?, dimensions: Int?
    var classLabels: [String]?
    var hasLabel = false
    var inData = false
    var channels: Int?
    var cases: [TSFile.Case] = []
    var valueCount = 0

    init(source: String) { self.source = source }

    func error(_ line: Int, _ message: String) -> SignalError { SignalError(file: source, line: line, message) }

    mutating func parse(_ bytes: [UInt8]) throws(SignalError) {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var number = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let text = String(decoding: bytes[start..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty && !text.hasPrefix("#") {
                if inData { try dataLine(text, number) } else { try headerLine(text, number) }
            }
            start = end + 1
            number += 1
        }
    }

    func bool(_ tokens: [Substring], _ line: Int) throws(SignalError) -> Bool {
        guard tokens.count == 2, let v = Bool(tokens[1].lowercased()) else {
            throw error(line, "\(tokens[0]) needs one value, true or false")
        }
        return v
    }

    func positive(_ tokens: [Substring], _ line: Int, limit: Int) throws(SignalError) -> Int {
        guard tokens.count == 2, let v = Int(tokens[1]), v > 0 else { throw error(line, "\(tokens[0]) needs one positive integer") }
        guard v <= limit else { throw error(line, "\(tokens[0]) \(v) exceeds the limit of \(limit)") }
        return v
    }

    mutating func headerLine(_ text: String, _ line: Int) throws(SignalError) {
        guard text.hasPrefix("@") else { throw error(line, "data before the @data tag (expected a @tag or # comment)") }
        let tokens = text.split(whereSeparator: \.isWhitespace)
        switch tokens[0].lowercased() {
        case "@problemname": problemName = tokens.dropFirst().joined(separator: " ")
        case "@timestamps": timestamps = try bool(tokens, line)
        case "@missing": missing = try bool(tokens, line)
        case "@univariate": univariate = try bool(tokens, line)
        case "@equallength": equalLength = try bool(tokens, line)
        case "@serieslength": seriesLength = try positive(tokens, line, limit: Signal.maxValues)
        case "@dimensions", "@dimension": dimensions = try positive(tokens, line, limit: Signal.maxChannels)
        case "@targetlabel":
            targetLabel = try bool(tokens, line)
            if targetLabel { hasLabel = true }
        case "@classlabel":
            guard tokens.count >= 2, let v = Bool(tokens[1].lowercased()) else {
                throw error(line, "@classLabel needs true or false first")
            }
            if v {
                guard tokens.count > 2 else { throw error(line, "@classLabel true needs the class labels") }
                let labels = tokens.dropFirst(2).map(String.init)
                guard Set(labels).count == labels.count else { throw error(line, "@classLabel lists a label twice") }
                classLabels = labels
                hasLabel = true
            } else {
                guard tokens.count == 2 else { throw error(line, "@classLabel false takes no labels") }
            }
        case "@data":
            guard tokens.count == 1 else { throw error(line, "@data takes no value") }
            if classLabels != nil && targetLabel { throw error(line, "both @classLabel true and @targetLabel true") }
            inData = true
        default:
            break   // other tags (@timeStamps variants, archive-specific metadata) carry nothing we use
        }
    }

    mutating func dataLine(_ text: String, _ line: Int) throws(SignalError) {
        var parts: [Substring]
        if timestamps {
            // (t,v),(t,v):(t,v),…:label — split on ':' outside parentheses.
            parts = []
            var depth = 0, fieldStart = text.startIndex
            for i in text.indices {
                switch text[i] {
                case "(": depth += 1
                case ")": depth -= 1
                    if depth < 0 { throw error(line, "unbalanced ')'") }
                case ":" where depth == 0:
                    parts.append(text[fieldStart..<i]); fieldStart = text.index(after: i)
                default: break
                }
            }
            if depth != 0 { throw error(line, "unbalanced '(' (truncated line?)") }
            parts.append(text[fieldStart...])
        } else {
            parts = text.split(separator: ":", omittingEmptySubsequences: false)
        }
        var label: String?
        if hasLabel {
            guard parts.count >= 2 else { throw error(line, "no class label (expected dimensions then ':label')") }
            let l = parts.removeLast().trimmingCharacters(in: .whitespaces)
            guard !l.isEmpty else { throw error(line, "empty label") }
            if let classLabels, !classLabels.contains(l) {
                throw error(line, "label '\(l)' is not one of the declared classes (\(classLabels.joined(separator: ", ")))")
            }
            if targetLabel && Double(l) == nil { throw error(line, "regression target '\(l)' is not a number") }
            label = l
        }
        let c = parts.count
        if let channels, c != channels {
            throw error(line, "\(c) dimension\(c == 1 ? "" : "s"), expected \(channels) (as on line \(cases[0].line))")
        }
        if channels == nil {
            if let dimensions, c != dimensions { throw error(line, "\(c) dimensions, but @dimensions is \(dimensions)") }
            if univariate == true && c != 1 { throw error(line, "\(c) dimensions in a file declared @univariate true") }
            guard c <= Signal.maxChannels else { throw error(line, "\(c) dimensions exceeds the limit of \(Signal.maxChannels)") }
            channels = c
        }
        var values = [Float]()
        var length: Int?
        for (d, part) in parts.enumerated() {
            let series = try timestamps ? timestampedValues(part, line, dimension: d) : plainValues(part, line, dimension: d)
            if let length, series.count != length {
                throw error(line, "dimension \(d + 1) has \(series.count) values, dimension 1 has \(length)")
            }
            length = series.count
            valueCount += series.count
            guard valueCount <= Signal.maxValues else { throw error(line, "more than \(Signal.maxValues) values") }
            values += series
        }
        let n = length ?? 0
        guard n > 0 else { throw error(line, "an empty series") }
        if equalLength, let seriesLength, n != seriesLength {
            throw error(line, "\(n) values per dimension, but @seriesLength is \(seriesLength)")
        }
        if equalLength, let first = cases.first, n != first.length {
            throw error(line, "\(n) values per dimension, expected \(first.length) (@equalLength true; as on line \(first.line))")
        }
        cases.append(TSFile.Case(values: values, channelCount: c, length: n, label: label, line: line))
    }

    func value(_ token: Substring, _ line: Int, dimension: Int) throws(SignalError) -> Float {
        let t = token.trimmingCharacters(in: .whitespaces)
        if t == "?" || t.lowercased() == "nan" { return .nan }
        guard let v = Double(t), v.isFinite else {
            let shown = t.count > 40 ? String(t.prefix(40)) + "…" : t
            throw error(line, "dimension \(dimension + 1): '\(shown)' is not a number")
        }
        guard Swift.abs(v) <= Double(Float.greatestFiniteMagnitude) else {
            throw error(line, "dimension \(dimension + 1): \(t) overflows float32")
        }
        return Float(v)
    }

    func plainValues(_ part: Substring, _ line: Int, dimension: Int) throws(SignalError) -> [Float] {
        var out: [Float] = []
        for token in part.split(separator: ",", omittingEmptySubsequences: false) {
            out.append(try value(token, line, dimension: dimension))
        }
        return out
    }

    /// `(t,v),(t,v),…` → the values.
    func timestampedValues(_ part: Substring, _ line: Int, dimension: Int) throws(SignalError) -> [Float] {
        var out: [Float] = []
        var rest = part.drop { $0.isWhitespace }
        while !rest.isEmpty {
            guard rest.first == "(", let close = rest.firstIndex(of: ")") else {
                throw error(line, "dimension \(dimension + 1): expected '(time,value)'")
            }
            let inner = rest[rest.index(after: rest.startIndex)..<close]
            guard let comma = inner.lastIndex(of: ",") else {
                throw error(line, "dimension \(dimension + 1): '(\(inner))' is not a (time,value) pair")
            }
            out.append(try value(inner[inner.index(after: comma)...], line, dimension: dimension))
            rest = rest[rest.index(after: close)...].drop { $0.isWhitespace }
            if rest.first == "," { rest = rest.dropFirst().drop { $0.isWhitespace } }
        }
        return out
    }
}
