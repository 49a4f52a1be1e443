import Telemetry

/// A value that may be missing, and then says why (never a silent 0).
public struct MaybeValue: Codable, Hashable, Sendable {
    public var value: Double?
    public var unavailableReason: String?

    public init(_ value: Double?, unavailableReason: String? = nil) {
        self.value = value
        self.unavailableReason = value == nil ? (unavailableReason ?? "unavailable") : nil
    }

    public static func unavailable(_ reason: String) -> MaybeValue { MaybeValue(nil, unavailableReason: reason) }
}

/// One domain's energy over one repetition (measured sources only).
public struct DomainWindowEnergy: Codable, Hashable, Sendable {
    public var domainID: String
    public var name: String
    public var kind: EnergyDomainKind
    public var interface: EnergyInterface
    /// Whether this domain is part of the run's total (outermost, preferred interface).
    public var inTotal: Bool
    /// The domain whose energy contains this one (psys ⊃ package ⊃ core): never add the two.
    public var containedInID: String?
    public var idleMicrojoules: UInt64
    public var windowMicrojoules: UInt64
    public var joulesPerInference: Double?
    /// (window energy - this domain's idle power × window time) / inferences.
    public var aboveIdleJoulesPerInference: Double?
    /// A read failure or backwards jump of this domain inside the repetition: its numbers are not exact.
    public var fault: String?
}

/// Energy of one repetition's measured window, with its source.
public struct EnergyWindow: Codable, Hashable, Sendable {
    /// Measured (which interface and domains), estimated (which power model) or unavailable (why).
    public var source: EnergyProvenance
    /// Exact sum over the total domains, for measured sources.
    public var windowMicrojoules: UInt64?
    public var windowJoules: Double?
    public var idleJoules: Double?
    /// Mean power over the idle baseline; subtracted × window time for "above idle".
    public var baselineWatts: MaybeValue
    public var averageWatts: Double?
    public var joulesPerInference: Double?
    public var aboveIdleJoules: MaybeValue
    public var aboveIdleJoulesPerInference: MaybeValue
    /// When the figure is an estimate: why it could not be measured.
    public var measurementUnavailableReason: String?
}

/// The energy joins: pure functions of the recorded trace and marks.
public enum EnergyWindowJoin {
    public static func join(_ run: RecordedRun, unit: UnitRecord, inferences: Int) -> (EnergyWindow, [DomainWindowEnergy]) {
        let record = run.record
        let marks = unit.marks
        let idleSeconds = seconds(from: marks.idle, to: marks.warmUp)
        let windowSeconds = seconds(from: marks.measure, to: marks.coolDown)
        let domains = record.energy.domains
        let totalIDs = Set(record.energy.totalDomains.map(\.id))

        func delta(_ column: Int, _ from: PhaseMark, _ to: PhaseMark) -> UInt64 {
            let first = run.samples[from.sampleIndex].cumulativeMicrojoules[column]
            let last = run.samples[to.sampleIndex].cumulativeMicrojoules[column]
            return last >= first ? last - first : 0
        }
        // Faults that make a domain's energy inexact over the idle baseline or the window. A stuck
        // counter alone is not one: what it counted is still exact.
        func fault(_ domainID: String) -> SamplerFault? {
            record.faults.first { fault in
                fault.domainID == domainID && fault.kind != .stuck && fault.kind != .resumed
                    && fault.timeNanoseconds >= marks.idle.timeNanoseconds
                    && fault.timeNanoseconds <= marks.coolDown.timeNanoseconds
            }
        }

        let perDomain = domains.enumerated().map { column, domain -> DomainWindowEnergy in
            let window = delta(column, marks.measure, marks.coolDown)
            let idle = delta(column, marks.idle, marks.warmUp)
            let faulted = fault(domain.id)
            // A counter that moved neither at idle nor in the window is not measuring (a VM's PMU
            // stub): its zero is no energy figure.
            let notAdvancing = faulted == nil && window == 0 && idle == 0
            var aboveIdle: Double?
            if inferences > 0, faulted == nil, !notAdvancing, idleSeconds > 0 {
                let idlePower = Double(idle) / 1e6 / idleSeconds
                aboveIdle = (Double(window) / 1e6 - idlePower * windowSeconds) / Double(inferences)
            }
            return DomainWindowEnergy(
                domainID: domain.id, name: domain.name, kind: domain.kind, interface: domain.interface,
                inTotal: totalIDs.contains(domain.id), containedInID: domain.containedInID,
                idleMicrojoules: idle, windowMicrojoules: window,
                joulesPerInference: inferences > 0 && faulted == nil && !notAdvancing
                    ? Double(window) / 1e6 / Double(inferences) : nil,
                aboveIdleJoulesPerInference: aboveIdle,
                fault: faulted.map { "\($0.kind.rawValue) at \($0.timeNanoseconds) ns: \($0.detail)" }
                    ?? (notAdvancing ? Self.notAdvancing : nil))
        }

        let measured = measuredWindow(record: record, perDomain: perDomain, idleSeconds: idleSeconds,
                                      windowSeconds: windowSeconds, inferences: inferences)
        if case .unavailable(let reason, let fix) = measured.source, let model = record.plan.powerModel {
            return (estimatedWindow(model: model, unit: unit, logicalCPUs: record.logicalCPUs, idleSeconds: idleSeconds,
                                    windowSeconds: windowSeconds, inferences: inferences,
                                    measurementUnavailable: reason + (fix.map { " (fix: \($0))" } ?? "")), perDomain)
        }
        return (measured, perDomain)
    }

    static let notAdvancing = "present but not advancing (virtualised?): 0 µJ over the idle baseline and the window"

    static func seconds(from start: PhaseMark, to end: PhaseMark) -> Double {
        end.timeNanoseconds >= start.timeNanoseconds ? Double(end.timeNanoseconds - start.timeNanoseconds) / 1e9 : 0
    }

    private static func measuredWindow(record: RunRecord, perDomain: [DomainWindowEnergy], idleSeconds: Double,
                                       windowSeconds: Double, inferences: Int) -> EnergyWindow {
        let totals = perDomain.filter(\.inTotal)
        if totals.isEmpty {
            return unavailable(record.energy.unavailableReason ?? "no energy source was sampled",
                               fix: record.energy.unavailableFix)
        }
        let ids = totals.map(\.domainID)
        if totals.allSatisfy({ $0.windowMicrojoules == 0 }) {
            return unavailable("present but not advancing (virtualised?): \(ids.joined(separator: ", ")) stayed "
                               + "constant over the window", fix: Remedy.virtualisedEnergy)
        }
        if let faulted = totals.first(where: { $0.fault != nil }) {
            return unavailable("\(faulted.domainID) \(faulted.fault!)",
                               fix: "rerun; if it repeats, check the source with `ssd-energy probe`")
        }
        let windowMicrojoules = totals.reduce(UInt64(0)) { $0 + $1.windowMicrojoules }
        let idleMicrojoules = totals.reduce(UInt64(0)) { $0 + $1.idleMicrojoules }
        let source = EnergyProvenance.measured(interface: totals[0].interface, domainIDs: ids)
        return assemble(source: source, windowJoules: Double(windowMicrojoules) / 1e6, windowMicrojoules: windowMicrojoules,
                        idleJoules: Double(idleMicrojoules) / 1e6, idleSeconds: idleSeconds,
                        windowSeconds: windowSeconds, inferences: inferences, measurementUnavailable: nil)
    }

    private static func estimatedWindow(model: PowerModel, unit: UnitRecord, logicalCPUs: Int, idleSeconds: Double,
                                        windowSeconds: Double, inferences: Int,
                                        measurementUnavailable: String) -> EnergyWindow {
        func utilisation(_ start: UInt64, _ end: UInt64, seconds: Double) -> Double {
            guard seconds > 0, logicalCPUs > 0, end >= start else { return 0 }
            // Clock granularity can push a fully busy machine a hair over 1.
            return min(1, Double(end - start) / 1e9 / (seconds * Double(logicalCPUs)))
        }
        let windowUse = utilisation(unit.processCPUNanosecondsAtMeasureStart, unit.processCPUNanosecondsAtMeasureEnd,
                                    seconds: windowSeconds)
        let idleUse = utilisation(unit.processCPUNanosecondsAtIdleStart, unit.processCPUNanosecondsAtIdleEnd,
                                  seconds: idleSeconds)
        let label = "\(model), utilisation = process CPU time / (wall time x \(logicalCPUs) logical CPUs)"
        guard let window = try? model.estimate(seconds: windowSeconds, utilisation: windowUse).joules,
              let idle = try? model.estimate(seconds: idleSeconds, utilisation: idleUse).joules else {
            return unavailable("the power model cannot estimate this window (\(model))", fix: nil)
        }
        return assemble(source: .estimated(model: label), windowJoules: window, windowMicrojoules: nil, idleJoules: idle,
                        idleSeconds: idleSeconds, windowSeconds: windowSeconds, inferences: inferences,
                        measurementUnavailable: measurementUnavailable)
    }

    private static func assemble(source: EnergyProvenance, windowJoules: Double, windowMicrojoules: UInt64?,
                                 idleJoules: Double, idleSeconds: Double, windowSeconds: Double, inferences: Int,
                                 measurementUnavailable: String?) -> EnergyWindow {
        let baseline: MaybeValue = idleSeconds > 0 ? MaybeValue(idleJoules / idleSeconds)
            : .unavailable("no idle baseline (idle time 0 s)")
        let aboveIdle: MaybeValue = baseline.value.map { MaybeValue(windowJoules - $0 * windowSeconds) }
            ?? .unavailable(baseline.unavailableReason!)
        let perInference: MaybeValue = inferences > 0 ? aboveIdle.value.map { MaybeValue($0 / Double(inferences)) }
            ?? aboveIdle : .unavailable("no inferences")
        return EnergyWindow(source: source, windowMicrojoules: windowMicrojoules, windowJoules: windowJoules,
                            idleJoules: idleJoules, baselineWatts: baseline,
                            averageWatts: windowSeconds > 0 ? windowJoules / windowSeconds : nil,
                            joulesPerInference: inferences > 0 ? windowJoules / Double(inferences) : nil,
                            aboveIdleJoules: aboveIdle, aboveIdleJoulesPerInference: perInference,
                            measurementUnavailableReason: measurementUnavailable)
    }

    private static func unavailable(_ reason: String, fix: String?) -> EnergyWindow {
        let missing = MaybeValue.unavailable("energy unavailable")
        return EnergyWindow(source: .unavailable(reason: reason, fix: fix), windowMicrojoules: nil, windowJoules: nil,
                            idleJoules: nil, baselineWatts: missing, averageWatts: nil, joulesPerInference: nil,
                            aboveIdleJoules: missing, aboveIdleJoulesPerInference: missing,
                            measurementUnavailableReason: reason)
    }
}
