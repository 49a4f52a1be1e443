/// Wrap-corrected running energy of one domain, fed one observation at a time.
///
/// Counters: between two samples the counter wraps at most once (the interval must be shorter than
/// the wrap period, ~60 s for a busy RAPL package), so a decrease is a wrap if the implied energy is
/// plausible for the elapsed time, otherwise a backwards jump. Powercap counters count modulo
/// `max_energy_range_uj + 1`; real RAPL hardware wraps in its own energy units, so each wrap can be
/// off by less than one such unit (about 15-61 µJ). Power gauges are integrated with the trapezoid rule.
public struct DomainAccumulator: Sendable {
    public let domain: EnergyDomain
    /// Raw counts counted so far (exact integer, wrap-corrected).
    public private(set) var counts: UInt64 = 0
    /// Integrated power in µJ, for power gauges.
    public private(set) var integratedMicrojoules: Double = 0
    public private(set) var wraps = 0
    public private(set) var lastObservation: EnergyObservation?
    private var lastTime: UInt64?
    private var unchangedSince: UInt64?
    private var isStuck = false
    private var failing: SamplerFault.Kind?

    public init(domain: EnergyDomain) { self.domain = domain }

    /// Energy so far in µJ: exact for µJ counters (powercap, hwmon energy), rounded to the nearest µJ
    /// for the perf PMU (2⁻³² J units) and integrated power.
    public var microjoules: UInt64 {
        switch domain.quantity {
        case .counter:
            if domain.microjoulesPerCount == 1 { return counts }
            return UInt64((Double(counts) * domain.microjoulesPerCount).rounded())
        case .powerMicrowatts:
            return UInt64(max(0, integratedMicrojoules).rounded())
        }
    }

    /// Takes one observation; returns the faults it revealed (usually none).
    public mutating func observe(_ result: Result<EnergyObservation, SysfsReadError>, at time: UInt64,
                                 configuration: Sampler.Configuration) -> [SamplerFault] {
        var faults: [SamplerFault] = []
        let observation: EnergyObservation
        switch result {
        case let .failure(error):
            let kind = Self.faultKind(error)
            if failing != kind {
                faults.append(fault(kind, at: time, "\(error)"))
                failing = kind
            }
            return faults
        case let .success(value):
            observation = value
        }
        if let previousFailure = failing {
            faults.append(fault(.recovered, at: time, "readable again after \(previousFailure.rawValue); "
                                + "energy during the gap is not counted"))
            failing = nil
            rebaseline(observation, at: time)
            return faults
        }
        guard let previous = lastObservation, let previousTime = lastTime else {
            rebaseline(observation, at: time)
            return faults
        }
        let elapsed = time >= previousTime ? time - previousTime : 0

        switch (previous, observation) {
        case let (.counter(before), .counter(now)):
            if now == before {
                if unchangedSince == nil { unchangedSince = previousTime }
                if !isStuck, let since = unchangedSince, time - since >= configuration.stuckAfterNanoseconds {
                    isStuck = true
                    faults.append(fault(.stuck, at: time, "value \(now) unchanged for \(time - since) ns"))
                }
            } else {
                if isStuck {
                    faults.append(fault(.resumed, at: time, "advancing again"))
                    isStuck = false
                }
                unchangedSince = nil
                if now > before {
                    counts &+= now - before
                } else if let modulus = domain.counterModulus, before < modulus,
                          modulus - before + now <= plausibleCounts(elapsedNanoseconds: elapsed, configuration) {
                    counts &+= modulus - before + now
                    wraps += 1
                } else {
                    faults.append(fault(.backwardsJump, at: time, "went from \(before) to \(now)"))
                }
            }
        case let (.powerMicrowatts(before), .powerMicrowatts(now)):
            integratedMicrojoules += (before + now) / 2 * Double(elapsed) / 1e9
        default:
            break
        }
        lastObservation = observation
        lastTime = time
        return faults
    }

    private mutating func rebaseline(_ observation: EnergyObservation, at time: UInt64) {
        lastObservation = observation
        lastTime = time
        unchangedSince = nil
        isStuck = false
    }

    /// The most raw counts the domain can plausibly add in `elapsed` at the configured power ceiling.
    private func plausibleCounts(elapsedNanoseconds: UInt64, _ configuration: Sampler.Configuration) -> UInt64 {
        let microjoules = configuration.maximumPlausiblePowerWatts * Double(elapsedNanoseconds) / 1e3
        let counts = microjoules / domain.microjoulesPerCount
        return counts >= Double(UInt64.max) ? UInt64.max : UInt64(counts)
    }

    private func fault(_ kind: SamplerFault.Kind, at time: UInt64, _ detail: String) -> SamplerFault {
        SamplerFault(domainID: domain.id, timeNanoseconds: time, kind: kind, detail: detail)
    }

    static func faultKind(_ error: SysfsReadError) -> SamplerFault.Kind {
        switch error {
        case .missing: return .vanished
        case .permissionDenied: return .permissionDenied
        default: return .unreadable
        }
    }
}
