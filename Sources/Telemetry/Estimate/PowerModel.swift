/// A power model the user states, for machines with no energy source. Its results are always
/// `EnergyReading.estimated`, labelled with the model, never passed off as measured.
public enum PowerModel: Codable, Hashable, Sendable, CustomStringConvertible {
    /// P = idle + (busy - idle) × utilisation.
    case idleBusy(idleWatts: Double, busyWatts: Double)
    /// P = TDP × utilisation.
    case tdpTimesUtilisation(tdpWatts: Double)

    public var description: String {
        switch self {
        case let .idleBusy(idle, busy): return "power model idle \(idle) W / busy \(busy) W"
        case let .tdpTimesUtilisation(tdp): return "power model TDP \(tdp) W x utilisation"
        }
    }

    public enum ModelError: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self { case let .invalid(message): return "invalid power model: \(message)" }
        }
    }

    /// Estimated energy for a run of `seconds` at average CPU `utilisation` (0...1 of the whole machine,
    /// e.g. process CPU time / (wall time × logical CPUs)).
    public func estimate(seconds: Double, utilisation: Double) throws -> EnergyReading {
        guard seconds >= 0, seconds.isFinite else { throw ModelError.invalid("duration \(seconds) s") }
        guard (0...1).contains(utilisation) else {
            throw ModelError.invalid("utilisation \(utilisation) is outside 0...1")
        }
        let watts: Double
        switch self {
        case let .idleBusy(idle, busy):
            guard idle >= 0, busy >= idle else {
                throw ModelError.invalid("need 0 <= idle (\(idle) W) <= busy (\(busy) W)")
            }
            watts = idle + (busy - idle) * utilisation
        case let .tdpTimesUtilisation(tdp):
            guard tdp > 0 else { throw ModelError.invalid("TDP \(tdp) W must be positive") }
            watts = tdp * utilisation
        }
        return .estimated(joules: watts * seconds, model: description)
    }
}
