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
