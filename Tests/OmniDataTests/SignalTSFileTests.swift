// The .ts reader of the UEA/UCR archive format on small inline files: values, labels, missing
// values, time stamps, unequal lengths, and every inconsistency → SignalError with file and line.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct SignalTSFileTests {
    static let header = """
        # two-dimensional toy problem
        @problemName Toy
        @timeStamps false
        @missing true
        @univariate false
        @dimensions 2
        @equalLength true
        @seriesLength 3
        @classLabel true up down
        @data

        """

    @Test func valuesLabelsAndMissing() throws {
        let ts = try TSFile(text: Self.header + "1,2,3:4,5,6:up\n-1.5,?,2e-2:0,NaN,1:down\n\n0.25,0.5,0.75:1,1,1:up\n", source: "toy.ts")
        #expect(ts.problemName == "Toy" && ts.count == 3 && ts.channelCount == 2 && ts.seriesLength == 3)
        #expect(ts.classLabels == ["up", "down"] && ts.isEqualLength && ts.hasMissingValues && !ts.isRegression)
        let x = try ts.tensor()
        #expect(x.shape == [3, 2, 3])
        let v = x.toArray()
        #expect(Array(v[0..<6]) == [1, 2, 3, 4, 5, 6])
        #expect(v[6] == -1.5 && v[7].isNaN && v[8] == 0.02 && v[9] == 0 && v[10].isNaN && v[11] == 1)
        #expect(Array(v[12..<18]) == [0.25, 0.5, 0.75, 1, 1, 1])
        #expect(try ts.labelIndices() == [0, 1, 0])
        #expect(ts.cases.map(\.line) == [11, 12, 14])
        let s = ts.signal(at: 2, sampleRate: 10, channelNames: ["a", "b"])
        #expect(s.channelNames == ["a", "b"] && s.samples == [0.25, 0.5, 0.75, 1, 1, 1] && s.sampleRate == 10)
    }

    @Test func timestampsAndUnequalLengths() throws {
        let text = """
            @problemName Stamped
            @timeStamps true
            @univariate true
            @equalLength false
            @classLabel false
            @data
            (0,1.5),(1,2.5),(3,-1):
            (0,4),(2,5):
            """
        // With @classLabel false there is no label: a trailing ':' leaves an empty last dimension.
        #expect(throws: SignalError.self) { _ = try TSFile(text: text) }
        let clean = text.replacingOccurrences(of: "):\n", with: ")\n").replacingOccurrences(of: "):", with: ")")
        let ts = try TSFile(text: clean)
        #expect(ts.hasTimestamps && !ts.isEqualLength && ts.count == 2)
        #expect(ts.cases[0].values == [1.5, 2.5, -1] && ts.cases[1].values == [4, 5] && ts.cases[0].label == nil)
        expectSignalError(file: "<ts>", line: 8, containing: "cases differ in length") { _ = try ts.tensor() }
        expectSignalError(file: "<ts>", containing: "declares no class labels") { _ = try ts.labelIndices() }
        let regression = try TSFile(text: "@targetLabel true\n@data\n1,2,3:0.5\n4,5,6:-2\n")
        #expect(regression.isRegression && regression.cases.map(\.label) == ["0.5", "-2"])
    }

    @Test func inconsistentFilesNameTheLine() throws {
        func bad(_ data: String, line: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            expectSignalError(file: "toy.ts", line: line, containing: fragment, sourceLocation: sourceLocation) {
                _ = try TSFile(text: Self.header + data, source: "toy.ts")
            }
        }
        bad("1,2,3:4,5,6:up\n1,2,3:down\n", line: 12, "1 dimension, expected 2 (as on line 11)")
        bad("1,2,3:4,5:up\n", line: 11, "dimension 2 has 2 values, dimension 1 has 3")
        bad("1,2,3:4,5,6:sideways\n", line: 11, "label 'sideways' is not one of the declared classes (up, down)")
        bad("1,2,3:4,5,6:up\n1,2,3:4,5,6\n", line: 12, "label '4,5,6' is not one of the declared classes")
        bad("1,2,3:4,5,6:up\n1,2,3\n", line: 12, "no class label")
        bad("1,2,x:4,5,6:up\n", line: 11, "dimension 1: 'x' is not a number")
        bad("1,2,3,4:4,5,6,7:up\n", line: 11, "4 values per dimension, but @seriesLength is 3")
        bad("1,2,3:4,5,6:up\n1,2,3:4,5,6:down\n1,2,3:4,5,6:up\n1,2,3:4,5,6:", line: 14, "empty label")
        bad("1,2,3:4,5,6:up\n1,2,3:4,5,6:down\n1,2,3:4,5,1e39:up\n", line: 13, "overflows float32")
        bad("1,2,3:4,5,6,:up\n", line: 11, "dimension 2: '' is not a number")
        expectSignalError(file: "<ts>", line: 1, containing: "data before the @data tag") { _ = try TSFile(text: "1,2,3:up\n") }
        expectSignalError(file: "<ts>", containing: "no @data section") { _ = try TSFile(text: "@problemName X\n") }
        expectSignalError(file: "<ts>", containing: "no cases after @data") { _ = try TSFile(text: "@problemName X\n@data\n\n") }
        expectSignalError(file: "<ts>", line: 1, containing: "@dimensions 100000 exceeds the limit of 4096") {
            _ = try TSFile(text: "@dimensions 100000\n@data\n1\n")
        }
        expectSignalError(file: "<ts>", line: 1, containing: "@seriesLength needs one positive integer") {
            _ = try TSFile(text: "@seriesLength -3\n@data\n1\n")
        }
        expectSignalError(file: "<ts>", line: 3, containing: "3 dimensions, but @dimensions is 2") {
            _ = try TSFile(text: "@dimensions 2\n@data\n1:2:3\n")
        }
        expectSignalError(file: "<ts>", line: 3, containing: "unbalanced '('") {
            _ = try TSFile(text: "@timestamps true\n@data\n(0,1),(1,2\n")
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = writeScratch("empty.ts", "", in: dir)
        expectSignalError(file: "empty.ts", containing: "empty file") { _ = try TSFile(contentsOf: empty) }
        let full = writeScratch("full.ts", Self.header + "1,2,3:4,5,6:up\n", in: dir)
        expectSignalError(file: "full.ts", containing: "exceeds the 100-byte limit") { _ = try TSFile(contentsOf: full, maxFileBytes: 100) }
        #expect(try TSFile(contentsOf: full).count == 1)
    }
}
