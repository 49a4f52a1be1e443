/// Min, mean and max of one temperature or frequency gauge over a stretch of samples.
public struct GaugeStatistics: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable { case temperatureCelsius = "temperature-celsius", frequencyKHz = "frequency-khz", other }

    public var name: String
    public var kind: Kind
    /// Samples with a reading; 0 means the gauge never read (min/mean/max are then nil).
    public var readings: Int
    public var minimum: Double?
    public var mean: Double?
    public var maximum: Double?

    public static func kind(of name: String) -> Kind {
        if name.hasSuffix("°C") { return .temperatureCelsius }
        if name.hasSuffix("kHz") { return .frequencyKHz }
        return .other
    }

    public init(name: String, values: [Double?]) {
        self.name = name
        kind = Self.kind(of: name)
        let present = values.compactMap { $0 }.filter(\.isFinite)
        readings = present.count
        minimum = present.min()
        maximum = present.max()
        mean = present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
    }

    /// Per gauge, over samples `range` of the run.
    static func over(_ run: RecordedRun, samples range: ClosedRange<Int>) -> [GaugeStatistics] {
        run.record.gaugeNames.enumerated().map { column, name in
            GaugeStatistics(name: name, values: range.map { run.samples[$0].gauges[column] })
        }
    }

    /// Combined across repetitions: overall min and max, mean weighted by readings.
    static func combine(_ groups: [[GaugeStatistics]]) -> [GaugeStatistics] {
        guard let first = groups.first else { return [] }
        return first.indices.map { column in
            let parts = groups.map { $0[column] }.filter { $0.readings > 0 }
            var combined = first[column]
            combined.readings = parts.reduce(0) { $0 + $1.readings }
            combined.minimum = parts.compactMap(\.minimum).min()
            combined.maximum = parts.compactMap(\.maximum).max()
            combined.mean = combined.readings == 0 ? nil
                : parts.reduce(0) { $0 + $1.mean! * Double($1.readings) } / Double(combined.readings)
            return combined
        }
    }
}
