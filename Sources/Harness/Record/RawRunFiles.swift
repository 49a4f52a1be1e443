import Foundation
import Telemetry

/// The raw files of a run under `<run>/raw/`: everything `ssd-energy report` needs to redo every
/// join. `run.json` holds the record; one CSV per energy interface holds the trace (raw values and
/// wrap-corrected µJ); `gauges.csv` the temperatures and frequencies; `timeline.csv` every measured
/// inference. Every sample row carries its time and the phase it falls in.
public enum RawRunFiles {
    public static let directoryName = "raw"
    static let recordFile = "run.json"
    static let gaugesFile = "gauges.csv"
    static let timelineFile = "timeline.csv"
    static func energyFile(_ interface: EnergyInterface) -> String { "energy-\(interface.rawValue).csv" }

    public static func write(_ run: RecordedRun, to runDirectory: URL) throws {
        let raw = runDirectory.appendingPathComponent(directoryName)
        let record = run.record
        let labels = SampleLabels(units: record.units, sampleCount: run.samples.count)

        var interfaces: [EnergyInterface] = []
        for domain in record.energy.domains where !interfaces.contains(domain.interface) {
            interfaces.append(domain.interface)
        }
        for interface in interfaces {
            let columns = record.energy.domains.indices.filter { record.energy.domains[$0].interface == interface }
            var text = CSVTable.line(["time_ns", "phase", "configuration", "repetition"] + columns.flatMap { index in
                let domain = record.energy.domains[index]
                let rawUnit = domain.quantity == .counter ? "raw_counts" : "raw_power_uw"
                return ["\(domain.id) \(rawUnit)", "\(domain.id) cumulative_uj"]
            })
            for (index, sample) in run.samples.enumerated() {
                var fields = [String(sample.timeNanoseconds)] + labels.fields(index)
                for column in columns {
                    fields.append(sample.observations[column].map(format) ?? "")
                    fields.append(String(sample.cumulativeMicrojoules[column]))
                }
                text += CSVTable.line(fields)
            }
            try AtomicFile.write(text, to: raw.appendingPathComponent(energyFile(interface)))
        }

        var gauges = CSVTable.line(["time_ns", "phase", "configuration", "repetition"] + record.gaugeNames)
        for (index, sample) in run.samples.enumerated() {
            gauges += CSVTable.line([String(sample.timeNanoseconds)] + labels.fields(index)
                                    + sample.gauges.map { $0.map { String($0) } ?? "" })
        }
        try AtomicFile.write(gauges, to: raw.appendingPathComponent(gaugesFile))

        var timeline = CSVTable.line(["configuration", "repetition", "index", "image", "start_ns", "end_ns"])
        for t in run.timeline {
            timeline += CSVTable.line([t.configurationID, String(t.repetition), String(t.index), String(t.image),
                                       String(t.startNanoseconds), String(t.endNanoseconds)])
        }
        try AtomicFile.write(timeline, to: raw.appendingPathComponent(timelineFile))
        // The record last: it names the finished units, so a reader never trusts units whose
        // samples were not yet written.
        try AtomicFile.write(try StableJSON.text(record), to: raw.appendingPathComponent(recordFile))
    }

    public static func read(runDirectory: URL) throws -> RecordedRun {
        let raw = runDirectory.appendingPathComponent(directoryName)
        let recordURL = raw.appendingPathComponent(recordFile)
        let data: Data
        do {
            data = try Data(contentsOf: recordURL)
        } catch {
            throw RawRunError(file: recordURL.path, message: "cannot read (is \(runDirectory.path) a run directory?)")
        }
        let record: RunRecord
        do {
            record = try StableJSON.decoder().decode(RunRecord.self, from: data)
        } catch let error as DecodingError {
            throw RawRunError(file: recordURL.path, message: "not a run record: \(RunPlan.explain(error))")
        }
        guard record.format == RunRecord.currentFormat else {
            throw RawRunError(file: recordURL.path, message: "format \(record.format); this tool reads \(RunRecord.currentFormat)")
        }

        let gaugeRows = try rows(raw.appendingPathComponent(gaugesFile), columns: 4 + record.gaugeNames.count)
        var samples = try gaugeRows.enumerated().map { line, row -> RecordedSample in
            let gauges = try row.dropFirst(4).map { field -> Double? in
                if field.isEmpty { return nil }
                guard let value = Double(field) else {
                    throw RawRunError(file: raw.appendingPathComponent(gaugesFile).path, message: "line \(line + 2): bad number \(field)")
                }
                return value
            }
            return RecordedSample(timeNanoseconds: try integer(row[0], raw.appendingPathComponent(gaugesFile), line),
                                  observations: Array(repeating: nil, count: record.energy.domains.count),
                                  cumulativeMicrojoules: Array(repeating: 0, count: record.energy.domains.count),
                                  gauges: gauges)
        }

        var interfaces: [EnergyInterface] = []
        for domain in record.energy.domains where !interfaces.contains(domain.interface) {
            interfaces.append(domain.interface)
        }
        for interface in interfaces {
            let url = raw.appendingPathComponent(energyFile(interface))
            let columns = record.energy.domains.indices.filter { record.energy.domains[$0].interface == interface }
            let energyRows = try rows(url, columns: 4 + 2 * columns.count)
            guard energyRows.count == samples.count else {
                throw RawRunError(file: url.path, message: "\(energyRows.count) samples but \(gaugesFile) has \(samples.count)")
            }
            for (line, row) in energyRows.enumerated() {
                guard try integer(row[0], url, line) == samples[line].timeNanoseconds else {
                    throw RawRunError(file: url.path, message: "line \(line + 2): time differs from \(gaugesFile)")
                }
                for (position, column) in columns.enumerated() {
                    let rawField = row[4 + 2 * position]
                    if !rawField.isEmpty {
                        switch record.energy.domains[column].quantity {
                        case .counter:
                            samples[line].observations[column] = .counter(try integer(rawField, url, line))
                        case .powerMicrowatts:
                            guard let watts = Double(rawField) else {
                                throw RawRunError(file: url.path, message: "line \(line + 2): bad power \(rawField)")
                            }
                            samples[line].observations[column] = .powerMicrowatts(watts)
                        }
                    }
                    samples[line].cumulativeMicrojoules[column] = try integer(row[5 + 2 * position], url, line)
                }
            }
        }

        let timelineURL = raw.appendingPathComponent(timelineFile)
        let timeline = try rows(timelineURL, columns: 6).enumerated().map { line, row in
            InferenceTiming(configurationID: row[0], repetition: Int(try integer(row[1], timelineURL, line)),
                            index: Int(try integer(row[2], timelineURL, line)),
                            image: Int(try integer(row[3], timelineURL, line)),
                            startNanoseconds: try integer(row[4], timelineURL, line),
                            endNanoseconds: try integer(row[5], timelineURL, line))
        }
        let run = RecordedRun(record: record, samples: samples, timeline: timeline)
        try validateMarks(run, file: recordURL.path)
        return run
    }

    /// Data rows (header dropped), each with exactly `columns` fields.
    private static func rows(_ url: URL, columns: Int) throws -> [[String]] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw RawRunError(file: url.path, message: "missing or not UTF-8 text")
        }
        let all = try CSVTable.parse(text, file: url.path)
        guard let header = all.first, header.count == columns else {
            throw RawRunError(file: url.path, message: "header should have \(columns) columns")
        }
        for (line, row) in all.enumerated() where row.count != columns {
            throw RawRunError(file: url.path, message: "line \(line + 1): \(row.count) fields, expected \(columns)")
        }
        return Array(all.dropFirst())
    }

    private static func integer(_ field: String, _ url: URL, _ line: Int) throws -> UInt64 {
        guard let value = UInt64(field) else {
            throw RawRunError(file: url.path, message: "line \(line + 2): \"\(field)\" is not a non-negative integer")
        }
        return value
    }

    private static func format(_ observation: EnergyObservation) -> String {
        switch observation {
        case let .counter(value): return String(value)
        case let .powerMicrowatts(value): return String(value)
        }
    }

    private static func validateMarks(_ run: RecordedRun, file: String) throws {
        for unit in run.record.units {
            for mark in unit.marks.all where mark.sampleIndex < 0 || mark.sampleIndex >= run.samples.count
                || run.samples[mark.sampleIndex].timeNanoseconds != mark.timeNanoseconds {
                throw RawRunError(file: file, message: "\(unit.configurationID) repetition \(unit.repetition): "
                                  + "\(mark.phase.rawValue) mark does not match sample \(mark.sampleIndex)")
            }
        }
    }
}

public struct RawRunError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    public var description: String { "\(file): \(message)" }
}

/// Which phase, configuration and repetition each sample falls in (from the unit marks).
struct SampleLabels {
    private var labels: [(phase: String, configuration: String, repetition: String)]

    init(units: [UnitRecord], sampleCount: Int) {
        labels = Array(repeating: ("outside", "", ""), count: sampleCount)
        for unit in units {
            let marks = unit.marks.all
            for (position, mark) in marks.enumerated() {
                let upper = position + 1 < marks.count ? marks[position + 1].sampleIndex : mark.sampleIndex + 1
                for index in mark.sampleIndex..<max(upper, mark.sampleIndex + 1) where index < sampleCount {
                    labels[index] = (mark.phase.rawValue, unit.configurationID, String(unit.repetition))
                }
            }
        }
    }

    func fields(_ index: Int) -> [String] {
        let label = labels[index]
        return [label.phase, label.configuration, label.repetition]
    }

    func phase(_ index: Int) -> String { labels[index].phase }
}
