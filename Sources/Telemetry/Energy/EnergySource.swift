/// One raw observation of an energy domain.
public enum EnergyObservation: Equatable, Sendable {
    /// A counter value in the domain's raw units (see `EnergyDomain.microjoulesPerCount`).
    case counter(UInt64)
    /// An instantaneous power in µW.
    case powerMicrowatts(Double)
}

/// Something the sampler can read: a fixed list of domains, read together.
public protocol EnergySource: AnyObject, Sendable {
    var domains: [EnergyDomain] { get }
    /// One result per domain, in `domains` order. A failure is recorded as a fault; it never stops the
    /// sampler.
    func read() -> [Result<EnergyObservation, SysfsReadError>]
}

/// Reads energy counters and power gauges that are plain sysfs files (powercap `energy_uj`, hwmon
/// `energyN_input` / `powerN_input`), each domain by its quantity, for the sampler.
public final class SysfsEnergySource: EnergySource, @unchecked Sendable {
    public let domains: [EnergyDomain]
    private let reader: any SysfsReading

    public init(reader: any SysfsReading, domains: [EnergyDomain]) {
        self.reader = reader
        self.domains = domains
    }

    public func read() -> [Result<EnergyObservation, SysfsReadError>] {
        domains.map { domain in
            do {
                switch domain.quantity {
                case .counter: return .success(.counter(try reader.readUnsignedInteger(domain.path)))
                case .powerMicrowatts: return .success(.powerMicrowatts(try reader.readDouble(domain.path)))
                }
            } catch let error as SysfsReadError {
                return .failure(error)
            } catch {
                return .failure(.ioError(path: domain.path, errno: 0))
            }
        }
    }
}
