// CSV signals: detection of delimiter, header and time column, exact values against the text
// (Swift's correctly rounded Double parse), and every kind of bad file → SignalError with file and
// line.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct SignalCSVTests {
    @Test func headerAndTimeColumnAreDetected() throws {
        let s = try Signal(csv: "time_ms,ax,ay\n0,1.5,-2\n10,2.5,-3\n20,3.5,-4e-1\n", source: "imu.csv")
        #expect(s.channelNames == ["ax", "ay"])
        #expect(s.sampleRate == 100)
        #expect(s.channelCount == 2 && s.sampleCount == 3)
        #expect(s.samples == [1.5, 2.5, 3.5, -2, -3, -0.4])
        #expect(s.tensor().shape == [2, 3])
        #expect(Array(s.channel(named: "ay")!) == [-2, -3, -0.4])
    }

    @Test(arguments: [",", ";", "\t", "|", " ", "  "])
    func delimitersAreDetected(delimiter: String) throws {
        let rows = [["t", "x", "y", "z"], ["0", "1", "2", "3"], ["0.5", "4", "5", "6"], ["1.0", "7", "8", "9.25"]]
        let text = rows.map { $0.joined(separator: delimiter) }.joined(separator: "\n")
        let s = try Signal(csv: text)
        #expect(s.channelNames == ["x", "y", "z"])
        #expect(s.sampleRate == 2)
        #expect(s.samples == [1, 4, 7, 2, 5, 8, 3, 6, 9.25])
        if delimiter.count == 1 {
            let explicit = try Signal(csv: text, options: .init(delimiter: .character(Character(delimiter))))
            #expect(explicit == s)
        }
    }

    @Test func randomTableMatchesTheParsedText() throws {
        // 300 rows × 5 channels of values in many magnitudes; the reference is Float(Double(text)).
        let g = Generator(seed: 11)
        var text = "a;b;c;d;e\n", expected = [[Double]](repeating: [], count: 5)
        for _ in 0..<300 {
            var fields: [String] = []
            for c in 0..<5 {
                let v = (g.nextDouble() * 2 - 1) * pow(10, Double(g.nextInt(below: 12)) - 6)
                let field = String(format: c % 2 == 0 ? "%.9g" : "%.4e", v)
                fields.append(field)
                expected[c].append(Double(Float(Double(field)!)))
            }
            text += fields.joined(separator: ";") + "\n"
        }
        let s = try Signal(csv: text, options: .init(sampleRate: 1000))
        #expect(s.channelNames == ["a", "b", "c", "d", "e"] && s.sampleRate == 1000)
        expectClose(s.samples, expected.flatMap { $0 }, tolerance: 0, "parsed values")
    }

    @Test func noHeaderNeedsARate() throws {
        let s = try Signal(csv: "1,2\n3,4\n5,6\n", options: .init(sampleRate: 50))
        #expect(s.channelNames == ["ch0", "ch1"] && s.sampleRate == 50 && s.samples == [1, 3, 5, 2, 4, 6])
        expectSignalError(file: "<csv>", containing: "no time column") { _ = try Signal(csv: "1,2\n3,4\n") }
        // One column, no delimiter at all.
        let mono = try Signal(csv: "0.5\n-0.5\n1e-3\n", options: .init(sampleRate: 8))
        #expect(mono.channelCount == 1 && mono.samples == [0.5, -0.5, 0.001])
    }

    @Test func quotesCommentsBOMAndCRLF() throws {
        let text = "\u{FEFF}# recorded 2024-05-01\r\n\"t (s)\",\"acc, x\",\"acc \"\"y\"\"\"\r\n\r\n0,\"1\", 2 \r\n# pause\r\n0.25,3,4\r\n\r\n"
        let s = try Signal(csv: text)
        #expect(s.channelNames == ["acc, x", "acc \"y\""])
        #expect(s.sampleRate == 4 && s.samples == [1, 3, 2, 4])
        // numpy.savetxt(header="t,x,y", delimiter=",") writes the header as a comment
        let saved = try Signal(csv: "# t,x,y\n0.000000000000000000e+00,1.0e+00,2.0e+00\n1.0e-01,3.0e+00,4.0e+00\n")
        #expect(saved.channelNames == ["x", "y"] && saved.sampleRate == 10 && saved.samples == [1, 3, 2, 4])
    }

    @Test func nanFieldsAreMissingValues() throws {
        let s = try Signal(csv: "x,y\n1,nan\nNaN,2\n", options: .init(sampleRate: 1))
        #expect(s.samples[0] == 1 && s.samples[1].isNaN && s.samples[2].isNaN && s.samples[3] == 2)
    }

    @Test func timeColumnChoices() throws {
        let text = "a,stamp,b\n5,1000,6\n7,1500,8\n9,2000,10\n"
        // "stamp" is not a time name: three channels unless chosen.
        let auto = try Signal(csv: text, options: .init(sampleRate: 3))
        #expect(auto.channelCount == 3)
        let named = try Signal(csv: text, options: .init(timeColumn: .named("stamp"), timeUnit: .milliseconds))
        #expect(named.channelNames == ["a", "b"] && named.sampleRate == 2 && named.samples == [5, 7, 9, 6, 8, 10])
        let indexed = try Signal(csv: text, options: .init(timeColumn: .index(1), timeUnit: .milliseconds))
        #expect(indexed == named)
        let none = try Signal(csv: "t,x\n0,1\n1,2\n", options: .init(timeColumn: .none, sampleRate: 5))
        #expect(none.channelNames == ["t", "x"])
        // Decimal time stamps: the rate snaps to 100 Hz instead of 99.99999999.
        let hundred = try Signal(csv: "t,x\n" + (0..<100).map { String(format: "%.2f,%d", Double($0) / 100, $0) }.joined(separator: "\n"))
        #expect(hundred.sampleRate == 100)
        // A given rate that agrees with the time column is used; one that does not is an error.
        #expect(try Signal(csv: "t,x\n0,1\n0.1,2\n", options: .init(sampleRate: 10.2)).sampleRate == 10.2)
        expectSignalError(file: "<csv>", containing: "implies 10.0 Hz") {
            _ = try Signal(csv: "t,x\n0,1\n0.1,2\n", options: .init(sampleRate: 20))
        }
    }

    @Test func timeColumnNames() {
        let yes: [(String, CSVSignalOptions.TimeUnit)] = [("t", .seconds), ("Time", .seconds), ("timestamp_ms", .milliseconds),
            ("time (s)", .seconds), ("t[us]", .microseconds), ("elapsed_ns", .nanoseconds), ("seconds", .seconds), ("ms", .milliseconds)]
        for (name, unit) in yes { #expect(CSVSignalParser.timeUnit(ofColumnNamed: name) == unit, "\(name)") }
        for name in ["s", "x", "temperature", "time of day", "acc_x", "stamp"] {
            #expect(CSVSignalParser.timeUnit(ofColumnNamed: name) == nil, "\(name)")
        }
    }

    // MARK: Bad input

    @Test func badRowsNameTheLine() {
        expectSignalError(file: "<csv>", line: 3, containing: "2 fields, expected 3 (as in the header on line 1)") {
            _ = try Signal(csv: "t,a,b\n0,1,2\n0.1,3")                       // truncated last row
        }
        expectSignalError(file: "<csv>", line: 3, containing: "'4e' is not a number") {
            _ = try Signal(csv: "a,b\n1,2\n3,4e", options: .init(sampleRate: 1))   // truncated number
        }
        expectSignalError(file: "<csv>", line: 4, containing: "4 fields, expected 3") {
            _ = try Signal(csv: "t,a,b\n0,1,2\n1,3,4\n2,5,6,7\n3,8,9\n")           // ragged
        }
        expectSignalError(file: "<csv>", line: 2, containing: "column 2 ('b'): 'x' is not a number") {
            _ = try Signal(csv: "a,b\n1,x\n", options: .init(sampleRate: 1))
        }
        expectSignalError(file: "<csv>", line: 3, containing: "2 fields, expected 3 (as on line 1)") {
            _ = try Signal(csv: "1,2,3\n4,5,6\n7,8\n", options: .init(sampleRate: 1))
        }
        expectSignalError(file: "<csv>", line: 2, containing: "column 2 ('b') is empty") {
            _ = try Signal(csv: "a,b\n1,\n", options: .init(sampleRate: 1))
        }
        expectSignalError(file: "<csv>", line: 2, containing: "overflows float32") {
            _ = try Signal(csv: "a,b\n1,1e39\n", options: .init(sampleRate: 1))
        }
        expectSignalError(file: "<csv>", line: 2, containing: "unterminated quote") {
            _ = try Signal(csv: "a,b\n\"1,2\n", options: .init(sampleRate: 1))
        }
        expectSignalError(file: "<csv>", line: 4, containing: "does not increase (previous 0.2 s on line 3)") {
            _ = try Signal(csv: "t,x\n0.1,1\n0.2,2\n0.2,3\n")
        }
        expectSignalError(file: "<csv>", line: 4, containing: "irregular sampling") {
            _ = try Signal(csv: "t,x\n0,1\n1,2\n2.5,3\n3,4\n")
        }
        expectSignalError(file: "<csv>", line: 2, containing: "single row") { _ = try Signal(csv: "t,x\n0,1\n") }
    }

    @Test func emptyAndHeaderOnlyAndAbsurd() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = writeScratch("empty.csv", "", in: dir)
        expectSignalError(file: "empty.csv", containing: "empty file") { _ = try Signal(csvContentsOf: empty) }
        let blank = writeScratch("blank.csv", "\n  \n# only a comment\n", in: dir)
        expectSignalError(file: "blank.csv", containing: "no data rows") { _ = try Signal(csvContentsOf: blank) }
        let header = writeScratch("header.csv", "t,x,y\n", in: dir)
        expectSignalError(file: "header.csv", line: 1, containing: "a header but no data rows") { _ = try Signal(csvContentsOf: header) }
        let big = writeScratch("big.csv", String(repeating: "1,2\n", count: 100), in: dir)
        expectSignalError(file: "big.csv", containing: "400 bytes exceeds the 64-byte limit") {
            _ = try Signal(csvContentsOf: big, options: .init(sampleRate: 1, maxFileBytes: 64))
        }
        let wide = writeScratch("wide.csv", (0..<5000).map { "c\($0)" }.joined(separator: ",") + "\n"
                                + (0..<5000).map { _ in "1" }.joined(separator: ",") + "\n", in: dir)
        expectSignalError(file: "wide.csv", line: 1, containing: "5000 channels exceeds the limit of 4096") {
            _ = try Signal(csvContentsOf: wide, options: .init(sampleRate: 1))
        }
        let onlyTime = writeScratch("time.csv", "time\n0\n1\n", in: dir)
        expectSignalError(file: "time.csv", line: 1, containing: "the time column is the only column") { _ = try Signal(csvContentsOf: onlyTime) }
        expectSignalError(file: "nope.csv", containing: "no such file") { _ = try Signal(csvContentsOf: dir.appending(path: "nope.csv").path) }
        expectSignalError(file: dir.lastPathComponent, containing: "is a directory") { _ = try Signal(csvContentsOf: dir.path) }
        let good = writeScratch("good.csv", "x\n1\n", in: dir)
        expectSignalError(file: "good.csv", line: 1, containing: "no column named 'time' (columns: x)") {
            _ = try Signal(csvContentsOf: good, options: .init(timeColumn: .named("time"), sampleRate: 1))
        }
        expectSignalError(file: "good.csv", containing: "sample rate -1.0 must be positive") {
            _ = try Signal(csvContentsOf: good, options: .init(sampleRate: -1))
        }
        // Binary junk: an error, not a crash.
        let junk = dir.appending(path: "junk.csv").path
        FileManager.default.createFile(atPath: junk, contents: Data((0..<256).map { UInt8($0) } + [0xFF, 0xFE, 0x00]))
        #expect(throws: SignalError.self) { _ = try Signal(csvContentsOf: junk, options: .init(sampleRate: 1)) }
    }
}
