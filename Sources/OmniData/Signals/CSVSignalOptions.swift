/// How ``Signal/init(csvContentsOf:options:)`` reads a CSV file: delimiter, header, time column
/// and sample rate, each detected automatically unless set.
///
/// ```swift
/// // "t,ax,ay,az" header, time in seconds → the sample rate comes from the time column
/// let imu = try Signal(csvContentsOf: "imu.csv")
/// // no header, no time column: say the rate
/// let raw = try Signal(csvContentsOf: "vib.txt", options: .init(sampleRate: 25_600))
/// ```
public struct CSVSignalOptions: Sendable, Equatable {
    /// How fields are separated.
    public enum Delimiter: Sendable, Equatable {
        /// The first of `,` `\t` `;` `|` that splits the first rows into the same number (> 1) of
        /// numeric fields; else runs of spaces/tabs when those do; else one column.
        case auto
        /// One ASCII character (`,` `;` `\t` …).
        case character(Character)
        /// Runs of spaces and tabs (leading and trailing ones ignored).
        case whitespace
    }

    /// Whether the first row names the columns.
    public enum Header: Sendable, Equatable {
        /// The first row is a header when one of its fields is not a number. A commented last line
        /// before the data (`# t,x,y`, as `numpy.savetxt(header=…)` writes) with as many fields as
        /// the rows and a non-numeric field is used as the header too.
        case auto
        case present
        case absent
    }

    /// Which column holds the time of each row (it becomes the sample rate, not a channel).
    public enum TimeColumn: Sendable, Equatable {
        /// A header column named `time`, `t`, `timestamp`, `seconds`, `sec`, `elapsed`, `ms`,
        /// `millis`… (case-insensitive, with an optional unit such as `time_s`, `time (ms)`,
        /// `t[us]`); none when there is no header.
        case auto
        case none
        /// The column at this 0-based index.
        case index(Int)
        /// The column with this header name.
        case named(String)
    }

    /// The unit of the time column.
    public enum TimeUnit: String, Sendable, Equatable, CaseIterable {
        case seconds, milliseconds, microseconds, nanoseconds

        /// Seconds per unit.
        public var seconds: Double {
            switch self {
            case .seconds: 1
            case .milliseconds: 1e-3
            case .microseconds: 1e-6
            case .nanoseconds: 1e-9
            }
        }
    }

    public var delimiter: Delimiter
    public var header: Header
    public var timeColumn: TimeColumn
    /// The time column's unit; nil reads it from the column name (`ms`, `millis`, `us`, `µs`,
    /// `ns` …), defaulting to seconds.
    public var timeUnit: TimeUnit?
    /// Samples per second. Required when there is no time column; when there is one, the rate it
    /// implies must agree with this one within ``timeTolerance``.
    public var sampleRate: Double?
    /// The largest relative deviation of a time step from the median step (irregular sampling
    /// beyond it is an error: resample such data first).
    public var timeTolerance: Double
    /// Lines starting with this (after leading spaces) are comments; nil for none.
    public var commentPrefix: String?
    /// The largest file accepted, in bytes.
    public var maxFileBytes: Int

    public init(delimiter: Delimiter = .auto, header: Header = .auto, timeColumn: TimeColumn = .auto,
                timeUnit: TimeUnit? = nil, sampleRate: Double? = nil, timeTolerance: Double = 0.05,
                commentPrefix: String? = "#", maxFileBytes: Int = Signal.maxFileBytes) {
        self.delimiter = delimiter
        self.header = header
        self.timeColumn = timeColumn
        self.timeUnit = timeUnit
        self.sampleRate = sampleRate
        self.timeTolerance = timeTolerance
        self.commentPrefix = commentPrefix
        self.maxFileBytes = maxFileBytes
    }
}
