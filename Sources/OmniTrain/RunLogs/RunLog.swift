// Scalar metrics of a run, one record per step, in two files: JSONL (the source of truth, one
// object per line, easy to stream) and CSV (for spreadsheets and quick plots).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One logged step: its scalar values by name.
public struct RunLogRecord: Sendable, Equatable {
    /// The training step.
    public var step: Int
    /// Seconds since 1970 when it was logged.
    public var time: Double
    /// The values by metric name (NaN and ±∞ are kept; JSON stores them as null).
    public var values: [String: Double]

    public init(step: Int, time: Double, values: [String: Double]) {
        self.step = step
        self.time = time
        self.values = values
    }

    public static func == (a: RunLogRecord, b: RunLogRecord) -> Bool {
        a.step == b.step && a.time == b.time && a.values.count == b.values.count
            && a.values.allSatisfy { k, v in b.values[k].map { $0 == v || ($0.isNaN && v.isNaN) } ?? false }
    }
}

/// An append-only log of scalar metrics per step: `<name>.jsonl` and `<name>.csv` in a run folder.
///
/// Each ``append(step:_:time:)`` writes one line to each file straight to the operating system (no
/// buffering in the process), so a killed run loses at most the line being written.
///
/// - JSONL: `{"step":120,"time":1700000000.125,"loss":0.4211,"lr":0.0003}` — non-finite values as
///   `null` (read back as NaN).
/// - CSV: a header `step,time,<metrics…>` then one row per record; a metric a record lacks is an
///   empty cell, NaN is `nan`. Metric columns are in order of first appearance; when a new metric
///   appears the CSV is rewritten (atomically) from the JSONL with the wider header.
/// - Opening an existing log continues it: a torn last line (a kill mid-write) is cut off and the
///   CSV is regenerated from the JSONL. ``truncate(afterStep:)`` drops records past a step, for
///   resuming from a checkpoint taken before the log's end.
///
/// ```swift
/// let log = try RunLog(directory: "runs/demo", name: "train")
/// try log.append(step: 10, ["loss": 2.31, "lr": 3e-4, "samples_per_second": 118.5])
/// let curve = try log.records().map { ($0.step, $0.values["loss"]) }
/// ```
public final class RunLog {
    /// The JSONL file.
    public let jsonlPath: String
    /// The CSV file.
    public let csvPath: String
    /// The metric columns of the CSV, in order of first appearance.
    public private(set) var columns: [String]
    private var jsonl: Int32 = -1
    private var csv: Int32 = -1

    /// Opens (creating if needed) `<directory>/<name>.jsonl` and `.csv`.
    public init(directory: String, name: String) throws {
        precondition(!name.isEmpty && !name.contains("/"), "RunLog: name \"\(name)\" must be a plain file name")
        try DurableFile.makeDirectory(directory)
        jsonlPath = directory + "/" + name + ".jsonl"
        csvPath = directory + "/" + name + ".csv"
        columns = []
        let existing = try Self.readRecords(jsonlPath, repairing: true)
        for r in existing { for k in r.values.keys.sorted() where !columns.contains(k) { columns.append(k) } }
        try rewriteCSV(existing)
        jsonl = try Self.openForAppend(jsonlPath)
        csv = try Self.openForAppend(csvPath)
    }

    deinit {
        if jsonl >= 0 { close(jsonl) }
        if csv >= 0 { close(csv) }
    }

    /// Appends one record. Names must be non-empty and not `step` or `time`.
    public func append(step: Int, _ values: [String: Double], time: Date = Date()) throws {
        for k in values.keys {
            precondition(!k.isEmpty && k != "step" && k != "time", "RunLog: \"\(k)\" cannot be a metric name")
        }
        let record = RunLogRecord(step: step, time: (time.timeIntervalSince1970 * 1000).rounded() / 1000, values: values)
        try DurableFile.writeAll(jsonl, Array((Self.jsonLine(record) + "\n").utf8), jsonlPath)
        let newColumns = values.keys.sorted().filter { !columns.contains($0) }
        if newColumns.isEmpty {
            try DurableFile.writeAll(csv, Array((csvRow(record) + "\n").utf8), csvPath)
        } else {
            columns += newColumns
            try rewriteCSV(try Self.readRecords(jsonlPath, repairing: false))
        }
    }

    /// Every record in the JSONL file, in file order.
    public func records() throws -> [RunLogRecord] { try Self.readRecords(jsonlPath, repairing: false) }

    /// Reads a JSONL run log (a torn last line is ignored).
    public static func records(ofFile path: String) throws -> [RunLogRecord] { try readRecords(path, repairing: false) }

    /// Drops every record with a step greater than `step` from both files (atomically), e.g. after
    /// resuming from the checkpoint of that step. Returns how many were dropped.
    @discardableResult
    public func truncate(afterStep step: Int) throws -> Int {
        let all = try records()
        let kept = all.filter { $0.step <= step }
        guard kept.count != all.count else { return 0 }
        close(jsonl); jsonl = -1
        close(csv); csv = -1
        try DurableFile.replace(jsonlPath, bytes: Array(kept.map { Self.jsonLine($0) + "\n" }.joined().utf8))
        try rewriteCSV(kept)
        jsonl = try Self.openForAppend(jsonlPath)
        csv = try Self.openForAppend(csvPath)
        return all.count - kept.count
    }

    // MARK: Formats

    static func jsonLine(_ r: RunLogRecord) -> String {
        var parts = ["\"step\":\(r.step)", "\"time\":\(number(r.time))"]
        for k in r.values.keys.sorted() { parts.append("\(jsonString(k)):\(number(r.values[k]!))") }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Shortest round-tripping decimal, `null` for NaN and infinities.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && Swift.abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    private func csvRow(_ r: RunLogRecord) -> String {
        ([String(r.step), Self.number(r.time)] + columns.map { k in
            guard let v = r.values[k] else { return "" }
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            return Self.number(v)
        }).joined(separator: ",")
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    private func rewriteCSV(_ records: [RunLogRecord]) throws {
        var text = (["step", "time"] + columns).map(Self.csvField).joined(separator: ",") + "\n"
        for r in records { text += csvRow(r) + "\n" }
        let reopen = csv >= 0
        if reopen { close(csv); csv = -1 }
        try DurableFile.replace(csvPath, bytes: Array(text.utf8))
        if reopen { csv = try Self.openForAppend(csvPath) }
    }

    private static func openForAppend(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError(file: path, "cannot open for appending: \(errnoDescription())") }
        return fd
    }

    /// Parses a JSONL log. A last line without its newline is a torn write: ignored, and cut off
    /// the file when `repairing`. Any other unparsable line is an error naming its line number.
    static func readRecords(_ path: String, repairing: Bool) throws -> [RunLogRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError(file: path, "unreadable") }
        var bytes = [UInt8](data)
        let complete = bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        if complete < bytes.count {
            bytes.removeSubrange(complete...)
            if repairing { try DurableFile.replace(path, bytes: bytes) }
        }
        var out: [RunLogRecord] = []
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            lineNumber += 1
            guard !line.isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let step = (object["step"] as? NSNumber)?.intValue, let time = (object["time"] as? NSNumber)?.doubleValue else {
                throw CheckpointError(file: path, "line \(lineNumber) is not a run-log record")
            }
            var values: [String: Double] = [:]
            for (k, v) in object where k != "step" && k != "time" {
                if let n = v as? NSNumber { values[k] = n.doubleValue }
                else if v is NSNull { values[k] = .nan }
                else { throw CheckpointError(file: path, "line \(lineNumber): value of \"\(k)\" is not a number") }
            }
            out.append(RunLogRecord(step: step, time: time, values: values))
        }
        return out
    }
}
