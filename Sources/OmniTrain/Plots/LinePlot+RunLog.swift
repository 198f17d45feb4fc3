extension LinePlot {
    /// A chart of `metrics` against step from run-log records: one series per metric, named after
    /// it, skipping records that lack it.
    ///
    /// ```swift
    /// let plot = LinePlot(records: try log.records(), metrics: ["loss", "eval_loss"], title: "loss")
    /// try plot.write(to: "runs/demo/plots/loss.png")
    /// ```
    public init(records: [RunLogRecord], metrics: [String], title: String = "", yLabel: String = "",
                logarithmicY: Bool = false, width: Int = 640, height: Int = 400) {
        let series = metrics.map { m in
            Series(name: m, points: records.compactMap { r in r.values[m].map { (x: Double(r.step), y: $0) } })
        }
        self.init(title: title, xLabel: "step", yLabel: yLabel, series: series, width: width, height: height,
                  logarithmicY: logarithmicY)
    }
}
