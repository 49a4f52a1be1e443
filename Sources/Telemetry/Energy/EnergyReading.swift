/// Where an energy figure came from. Every energy value the harness reports carries one, so an
/// estimate can never pass for a measurement and a missing source is never shown as 0 J.
public enum EnergyProvenance: Codable, Hashable, Sendable {
    /// Read from hardware counters or sensors through `interface`, summing `domainIDs`.
    case measured(interface: EnergyInterface, domainIDs: [String])
    /// Computed from a power model the user stated (see `PowerModel`), not measured.
    case estimated(model: String)
    /// No energy figure; `reason` says why and `fix` what would make one available.
    case unavailable(reason: String, fix: String?)
}

/// An energy value and its provenance. `joules` is nil exactly when the provenance is `.unavailable`.
public struct EnergyReading: Codable, Hashable, Sendable, CustomStringConvertible {
    public let joules: Double?
    public let provenance: EnergyProvenance

    public static func measured(microjoules: UInt64, interface: EnergyInterface, domainIDs: [String]) -> EnergyReading {
        EnergyReading(joules: Double(microjoules) / 1e6,
                      provenance: .measured(interface: interface, domainIDs: domainIDs))
    }

    public static func estimated(joules: Double, model: String) -> EnergyReading {
        EnergyReading(joules: joules, provenance: .estimated(model: model))
    }

    public static func unavailable(reason: String, fix: String?) -> EnergyReading {
        EnergyReading(joules: nil, provenance: .unavailable(reason: reason, fix: fix))
    }

    public var isMeasured: Bool {
        if case .measured = provenance { return true }
        return false
    }

    /// A label that always states the provenance next to the number.
    public var description: String {
        switch provenance {
        case let .measured(interface, domains):
            return "\(formatJoules(joules ?? 0)) J (measured: \(interface.rawValue) \(domains.joined(separator: "+")))"
        case let .estimated(model):
            return "\(formatJoules(joules ?? 0)) J (ESTIMATED from \(model), not measured)"
        case let .unavailable(reason, _):
            return "unavailable (\(reason))"
        }
    }
}

func formatJoules(_ value: Double) -> String {
    let rounded = (value * 1e6).rounded() / 1e6
    return String(rounded)
}
