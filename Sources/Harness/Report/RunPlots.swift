import Telemetry

/// The SVG plots of a run, all rebuilt from the raw files.
enum RunPlots {
    static let precisionColours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]
    static let phaseColours: [Phase: String] = [.idle: "#888888", .warmUp: "#ff7f0e", .measure: "#2ca02c",
                                                .coolDown: "#1f77b4"]

    /// File name -> SVG text, in a fixed order.
    static func render(_ run: RecordedRun, _ summary: SummaryDocument) -> [(String, String)] {
        let results = summary.configurations
        var plots: [(String, String)] = []
        let front = TradeoffFront(results)
        let energyNote = energyFootnote(results)
        if front.usesEnergy {
            plots.append(("map-vs-energy.svg", scatter(
                results, title: "Accuracy vs energy per inference", xLabel: "J / inference", yLabel: "COCO mAP@[.5:.95]",
                x: { $0.joulesPerInference?.mean }, y: { $0.meanAveragePrecision }, front: front.frontIDs,
                footnote: energyNote)))
            plots.append(("latency-vs-energy.svg", scatter(
                results, title: "Latency vs energy per inference", xLabel: "J / inference", yLabel: "median latency (ms)",
                x: { $0.joulesPerInference?.mean }, y: { $0.latency.medianMs }, front: [], footnote: energyNote)))
        }
        plots.append(("map-vs-latency.svg", scatter(
            results, title: "Accuracy vs latency", xLabel: "median latency (ms)", yLabel: "COCO mAP@[.5:.95]",
            x: { $0.latency.medianMs }, y: { $0.meanAveragePrecision },
            front: front.usesEnergy ? [] : front.frontIDs,
            footnote: front.usesEnergy ? "time per inference" : "no energy figure: \(energyNote)")))
        if let power = powerOverTime(run) { plots.append(("power-over-time.svg", power)) }
        if let temperature = gaugeOverTime(run, kind: .temperatureCelsius, title: "Temperature over the run",
                                           yLabel: "°C", scale: 1) {
            plots.append(("temperature-over-time.svg", temperature))
        }
        if let frequency = gaugeOverTime(run, kind: .frequencyKHz, title: "CPU frequency over the run",
                                         yLabel: "MHz", scale: 1e-3) {
            plots.append(("frequency-over-time.svg", frequency))
        }
        plots.append(("latency-over-time.svg", latencyOverTime(run)))
        return plots
    }

    private static func energyFootnote(_ results: [ConfigurationResult]) -> String {
        guard let source = results.first(where: { $0.joulesPerInference != nil })?.energySource ?? results.first?.energySource
        else { return "" }
        return "energy: " + TradeoffCSV.sourceLabel(source)
    }

    private static func scatter(_ results: [ConfigurationResult], title: String, xLabel: String, yLabel: String,
                                x: (ConfigurationResult) -> Double?, y: (ConfigurationResult) -> Double?,
                                front: [String], footnote: String) -> String {
        var chart = SVGChart(title: title, xLabel: xLabel, yLabel: yLabel)
        var precisions: [String] = []
        for r in results where !precisions.contains(r.configuration.precision) { precisions.append(r.configuration.precision) }
        for (index, precision) in precisions.enumerated() {
            let members = results.filter { $0.configuration.precision == precision }
            chart.series.append(SVGChart.Series(
                name: precision, points: members.map { SVGChart.Point(x: x($0) ?? .nan, y: y($0) ?? .nan) },
                color: precisionColours[index % precisionColours.count], labels: members.map(\.configuration.id)))
        }
        let frontMembers = front.compactMap { id in results.first { $0.configuration.id == id } }
        if frontMembers.count > 0 {
            chart.series.append(SVGChart.Series(
                name: "Pareto front", points: frontMembers.map { SVGChart.Point(x: x($0) ?? .nan, y: y($0) ?? .nan) },
                color: "#444444", drawLine: true, drawMarkers: false, dashed: true))
        }
        let missing = results.filter { x($0) == nil || y($0) == nil }.map(\.configuration.id)
        chart.footnote = footnote + (missing.isEmpty ? "" : "; not plotted (value unavailable): "
                                     + missing.joined(separator: ", "))
        return chart.render()
    }

    /// Phase bands in seconds since the first sample.
    private static func bands(_ run: RecordedRun) -> [SVGChart.Band] {
        guard let origin = run.samples.first?.timeNanoseconds else { return [] }
        func seconds(_ mark: PhaseMark) -> Double { Double(mark.timeNanoseconds &- origin) / 1e9 }
        return run.record.units.sorted { $0.order < $1.order }.flatMap { unit -> [SVGChart.Band] in
            let marks = unit.marks.all
            return zip(marks, marks.dropFirst()).map { start, end in
                SVGChart.Band(from: seconds(start), to: seconds(end), label: start.phase.rawValue,
                              color: phaseColours[start.phase] ?? "#cccccc")
            }
        }
    }

    /// Average power of the total domains between consecutive samples, in at most ~1000 buckets
    /// (each bucket's power is its exact energy over its time).
    private static func powerOverTime(_ run: RecordedRun) -> String? {
        let columns = run.record.energy.totalDomains.compactMap { d in run.record.energy.domains.firstIndex(of: d) }
        guard !columns.isEmpty, run.samples.count > 1, let origin = run.samples.first?.timeNanoseconds else { return nil }
        let total = run.samples.map { s in columns.reduce(UInt64(0)) { $0 + s.cumulativeMicrojoules[$1] } }
        guard total.last! > total.first! else { return nil }
        let step = max(1, (run.samples.count - 1 + 999) / 1000)
        var points: [SVGChart.Point] = []
        var index = 0
        while index + step < run.samples.count {
            let next = index + step
            let dt = Double(run.samples[next].timeNanoseconds &- run.samples[index].timeNanoseconds) / 1e9
            if dt > 0, total[next] >= total[index] {
                let mid = Double(run.samples[index].timeNanoseconds &- origin) / 1e9 + dt / 2
                points.append(SVGChart.Point(x: mid, y: Double(total[next] - total[index]) / 1e6 / dt))
            }
            index = next
        }
        var chart = SVGChart(title: "Power over the run", xLabel: "time (s)", yLabel: "W")
        chart.series = [SVGChart.Series(name: "total", points: points, color: "#d62728", drawLine: true, drawMarkers: false)]
        chart.bands = bands(run)
        chart.footnote = "measured: " + run.record.energy.totalDomains.map(\.id).joined(separator: "+")
        return chart.render()
    }

    private static func gaugeOverTime(_ run: RecordedRun, kind: GaugeStatistics.Kind, title: String, yLabel: String,
                                      scale: Double) -> String? {
        let columns = run.record.gaugeNames.indices.filter { GaugeStatistics.kind(of: run.record.gaugeNames[$0]) == kind }
        guard !columns.isEmpty, let origin = run.samples.first?.timeNanoseconds else { return nil }
        let step = max(1, run.samples.count / 1000)
        var chart = SVGChart(title: title, xLabel: "time (s)", yLabel: yLabel)
        for (position, column) in columns.enumerated() {
            let points = stride(from: 0, to: run.samples.count, by: step).compactMap { i -> SVGChart.Point? in
                guard let value = run.samples[i].gauges[column] else { return nil }
                return SVGChart.Point(x: Double(run.samples[i].timeNanoseconds &- origin) / 1e9, y: value * scale)
            }
            guard !points.isEmpty else { continue }
            chart.series.append(SVGChart.Series(name: run.record.gaugeNames[column], points: points,
                                                color: precisionColours[position % precisionColours.count],
                                                drawLine: true, drawMarkers: false))
        }
        guard !chart.series.isEmpty else { return nil }
        chart.bands = bands(run)
        return chart.render()
    }

    private static func latencyOverTime(_ run: RecordedRun) -> String {
        var chart = SVGChart(title: "Inference latency over the run", xLabel: "time (s)", yLabel: "latency (ms)")
        let origin = run.samples.first?.timeNanoseconds ?? run.timeline.first?.startNanoseconds ?? 0
        var configurations: [String] = []
        for t in run.timeline where !configurations.contains(t.configurationID) { configurations.append(t.configurationID) }
        for (index, id) in configurations.enumerated() {
            let timings = run.timeline.filter { $0.configurationID == id }
            let step = max(1, timings.count / 1000)
            let points = stride(from: 0, to: timings.count, by: step).map { i in
                SVGChart.Point(x: Double(timings[i].startNanoseconds &- origin) / 1e9,
                               y: Double(timings[i].endNanoseconds &- timings[i].startNanoseconds) / 1e6)
            }
            chart.series.append(SVGChart.Series(name: id, points: points,
                                                color: precisionColours[index % precisionColours.count]))
        }
        chart.bands = bands(run)
        chart.footnote = "phases: idle (grey), warm-up (orange), measure (green), cool-down (blue)"
        return chart.render()
    }
}
