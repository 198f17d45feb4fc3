import Foundation
import OmniData
import Testing
@testable import OmniTrain

@Suite struct RunLogTests {
    func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func appendsJSONLAndCSVAndReadsBack() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let log = try RunLog(directory: dir.path + "/logs", name: "train")
        let t0 = Date(timeIntervalSince1970: 1_700_000_000.125)
        try log.append(step: 1, ["loss": 2.5, "lr": 0.0003], time: t0)
        try log.append(step: 2, ["loss": .nan, "lr": 0.0003], time: t0.addingTimeInterval(1))
        // Lines are on disk immediately (no buffering in the process).
        #expect(try text(log.jsonlPath) == """
            {"step":1,"time":1700000000.125,"loss":2.5,"lr":0.0003}
            {"step":2,"time":1700000001.125,"loss":null,"lr":0.0003}

            """)
        #expect(try text(log.csvPath) == "step,time,loss,lr\n1,1700000000.125,2.5,0.0003\n2,1700000001.125,nan,0.0003\n")

        // A new metric widens the CSV (rewritten from the JSONL); a missing one is an empty cell.
        try log.append(step: 3, ["loss": 1.25, "eval_accuracy": 0.5], time: t0.addingTimeInterval(2))
        #expect(log.columns == ["loss", "lr", "eval_accuracy"])
        #expect(try text(log.csvPath) == """
            step,time,loss,lr,eval_accuracy
            1,1700000000.125,2.5,0.0003,
            2,1700000001.125,nan,0.0003,
            3,1700000002.125,1.25,,0.5

            """)
        let records = try log.records()
        #expect(records.count == 3)
        #expect(records[1] == RunLogRecord(step: 2, time: 1_700_000_001.125, values: ["loss": .nan, "lr": 0.0003]))
        #expect(records[2].values == ["loss": 1.25, "eval_accuracy": 0.5])
    }

    @Test func reopeningRepairsATornLineAndContinues() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let t = Date(timeIntervalSince1970: 100)
        do {
            let log = try RunLog(directory: dir.path, name: "train")
            for step in 1...4 { try log.append(step: step, ["loss": Double(10 - step)], time: t) }
        }
        // A kill in the middle of writing step 5's line.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.path + "/train.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"step\":5,\"ti".utf8))
        try handle.close()
        #expect(try RunLog.records(ofFile: dir.path + "/train.jsonl").count == 4, "readers ignore the torn line")

        let log = try RunLog(directory: dir.path, name: "train")
        #expect(try text(log.jsonlPath).hasSuffix("{\"step\":4,\"time\":100,\"loss\":6}\n"), "torn line cut off")
        try log.append(step: 5, ["loss": 5], time: t)
        #expect(try log.records().map(\.step) == [1, 2, 3, 4, 5])
        #expect(try text(log.csvPath).split(separator: "\n").count == 6)

        // Resuming from the checkpoint of step 3 drops the later records from both files.
        #expect(try log.truncate(afterStep: 3) == 2)
        #expect(try log.records().map(\.step) == [1, 2, 3])
        try log.append(step: 4, ["loss": 4.5], time: t)
        #expect(try text(log.csvPath) == "step,time,loss\n1,100,9\n2,100,8\n3,100,7\n4,100,4.5\n")

        // A damaged line in the middle is an error naming the line.
        try Data("{\"step\":1,\"time\":0,\"loss\":1}\nnot json\n{\"step\":2,\"time\":0}\n".utf8).write(to: URL(fileURLWithPath: dir.path + "/bad.jsonl"))
        #expect(throws: CheckpointError(file: dir.path + "/bad.jsonl", "line 2 is not a run-log record")) {
            try RunLog.records(ofFile: dir.path + "/bad.jsonl")
        }
    }
}

@Suite struct PlotTests {
    @Test func axesGetNiceTicksAndLabels() {
        let a = PlotAxis.linear(covering: [0.13, 0.87])
        #expect(a.step == 0.1 && a.lower == 0.1 && a.upper == 0.9 && a.ticks.count == 9)
        #expect(a.ticks.map(a.label) == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"])
        let b = PlotAxis.linear(covering: [0, 1000, 2400])
        #expect(b.step == 500 && b.upper == 2500 && b.ticks.first == 0 && b.ticks.map(b.label).last == "2500")
        let c = PlotAxis.linear(covering: [-3, 3, .nan])
        #expect(c.ticks == [-3, -2, -1, 0, 1, 2, 3])
        let flat = PlotAxis.linear(covering: [5, 5])
        #expect(flat.lower < 5 && flat.upper > 5)
        let log = PlotAxis.logarithmic(covering: [0.003, 2.5, -1])
        #expect(log.lower == 0.001 && log.upper == 10)
        #expect(log.ticks.map(log.label) == ["0.001", "0.01", "0.1", "1", "10"])
        #expect(PlotAxis.linear(covering: [0, 2e-4]).label(1e-4) == "1e-4")
        #expect(PlotAxis.linear(covering: [0, 3e6]).label(2.5e6) == "2.5e6")
        #expect(log.fraction(of: 0.1)! == 0.5 && log.fraction(of: 0) == nil)
    }

    @Test func fontDrawsItsGlyphBits() {
        var canvas = Canvas(width: 20, height: 10, background: .white)
        BitmapFont.draw("1", on: &canvas, x: 3, y: 2, color: .black)
        let glyph = BitmapFont.rows(of: "1")
        for y in 0..<10 { for x in 0..<20 {
            let inside = x >= 3 && x < 8 && y >= 2 && y < 9
            let on = inside && glyph[y - 2] & (1 << UInt8(4 - (x - 3))) != 0
            #expect(canvas[x, y] == (on ? PlotColor.black : .white), "(\(x), \(y))")
        } }
        #expect(BitmapFont.width(of: "loss") == 23)
        #expect(BitmapFont.rows(of: "é") == [31, 17, 17, 17, 17, 17, 31], "unknown characters draw a box")
    }

    @Test func linesLandOnTheirDataPixelsAndThePNGDecodes() throws {
        // A falling loss curve and a rising metric: data points must be drawn in their colours.
        let loss = (0...20).map { (x: Double($0) * 50, y: 3.0 - 0.12 * Double($0)) }
        let accuracy = (0...20).map { (x: Double($0) * 50, y: 0.2 + 0.02 * Double($0)) }
        let red = PlotColor(hex: 0xD62728)
        let plot = LinePlot(title: "training", xLabel: "step", yLabel: "value",
                            series: [.init(name: "loss", points: loss), .init(name: "accuracy", points: accuracy, color: red)],
                            width: 480, height: 320)
        let canvas = plot.render()
        let layout = plot.layout
        #expect(plot.resolvedColors == [PlotColor.palette[0], red])
        for (series, color) in [(loss, PlotColor.palette[0]), (accuracy, red)] {
            for p in series.dropFirst().dropLast() {   // the end points touch the frame
                let px = try #require(layout.pixel(x: p.x, y: p.y))
                #expect(canvas[px.x, px.y] == color, "point (\(p.x), \(p.y)) at pixel (\(px.x), \(px.y))")
            }
        }
        // The frame, a tick label and the background.
        #expect(canvas[layout.plotX, layout.plotY + layout.plotHeight / 2] == .darkGray)
        #expect(canvas[layout.plotX + layout.plotWidth - 1, layout.plotY + 3] == .darkGray)
        let zero = try #require(layout.pixel(x: 0, y: layout.yAxis.lower))
        let labelTop = layout.plotY + layout.plotHeight + LinePlot.tickLength + LinePlot.labelGap
        let glyph = BitmapFont.rows(of: "0")
        for row in 0..<7 { for column in 0..<5 where glyph[row] & (1 << UInt8(4 - column)) != 0 {
            #expect(canvas[zero.x - 2 + column, labelTop + row] == .darkGray, "x tick label \"0\"")
        } }
        #expect(canvas[2, canvas.height - 2] == .white)

        // PNG round trip through OmniData's decoder.
        let png = try plot.pngData()
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decoded = try Image(data: png)
        #expect(decoded.width == 480 && decoded.height == 320 && decoded.channels == 3)
        #expect(decoded.samples8 == canvas.pixels)

        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try plot.write(to: dir.path + "/loss.png")
        #expect(try Image(contentsOfFile: dir.path + "/loss.png") == decoded)
    }

    @Test func runLogRecordsBecomeSeriesAndGapsBreakLines() throws {
        let records = [RunLogRecord(step: 0, time: 0, values: ["loss": 2, "eval": 0.1]),
                       RunLogRecord(step: 10, time: 0, values: ["loss": 1.5]),
                       RunLogRecord(step: 20, time: 0, values: ["loss": .nan, "eval": 0.4]),
                       RunLogRecord(step: 30, time: 0, values: ["loss": 1.0]),
                       RunLogRecord(step: 40, time: 0, values: ["loss": 0.8]),
                       RunLogRecord(step: 50, time: 0, values: ["loss": .infinity]),
                       RunLogRecord(step: 60, time: 0, values: ["loss": 0.5]),
                       RunLogRecord(step: 70, time: 0, values: ["loss": -1])]
        let plot = LinePlot(records: records, metrics: ["loss", "eval"], title: "run", logarithmicY: true)
        #expect(plot.series.map(\.name) == ["loss", "eval"])
        #expect(plot.series[0].points.count == 8 && plot.series[1].points.map(\.x) == [0, 20])
        #expect(plot.layout.yAxis.isLogarithmic)
        let canvas = plot.render()
        let color = plot.resolvedColors[0]
        // The NaN at step 20 breaks the loss line: the middle of 10 → 30 is not drawn.
        let a = try #require(plot.layout.pixel(x: 10, y: 1.5)), b = try #require(plot.layout.pixel(x: 30, y: 1.0))
        let mid = plot.layout.pixel(x: 20, y: (1.5 * 1.0).squareRoot())!
        #expect(canvas[a.x, a.y] == color && canvas[b.x, b.y] == color)
        #expect(canvas[mid.x, mid.y] != color)
        // Step 60 lies between an infinity and a value a log axis cannot show: drawn as a dot.
        let dot = try #require(plot.layout.pixel(x: 60, y: 0.5))
        #expect(canvas[dot.x, dot.y] == color && canvas[dot.x + 2, dot.y - 2] == color)
    }
}
