/// Energy from hwmon: `energyN_input` counters (µJ; amd_energy on Linux 5.8–5.12, some BMC/ACPI
/// meters) and, on chips that have no energy counter, `powerN_input` gauges (µW; ina2xx boards)
/// integrated over time by the sampler (trapezoid rule).
public enum HwmonEnergy {
    public static func discover(_ reader: any SysfsReading) -> [EnergyDomain] {
        let inputs = HwmonSysfs.inputs(reader)
        var domains: [EnergyDomain] = []
        for chipDirectory in Set(inputs.map(\.chipDirectory)).sorted(by: naturalOrder) {
            let chipInputs = inputs.filter { $0.chipDirectory == chipDirectory }
            let energy = chipInputs.filter { $0.quantity == .energy }
            let chipID = String(chipDirectory.split(separator: "/").last ?? "hwmon")
            if !energy.isEmpty {
                let sockets = energy.filter { kind(ofLabel: $0.label) == .package }
                for input in energy {
                    let kind = kind(ofLabel: input.label)
                    // Cores are inside their socket; with one socket on the chip that is unambiguous.
                    let container = (kind == .core && sockets.count == 1) ? domainID(chipID, sockets[0]) : nil
                    domains.append(EnergyDomain(
                        id: domainID(chipID, input), name: "\(input.chipName) \(input.label)", kind: kind,
                        interface: .hwmonEnergy, socket: socketNumber(ofLabel: input.label), parentID: nil,
                        containedInID: container, duplicateOfID: nil, path: input.path, quantity: .counter,
                        counterModulus: nil, microjoulesPerCount: 1))
                }
            } else {
                for input in chipInputs where input.quantity == .power {
                    domains.append(EnergyDomain(
                        id: domainID(chipID, input), name: "\(input.chipName) \(input.label)", kind: .board,
                        interface: .hwmonPower, socket: nil, parentID: nil, containedInID: nil, duplicateOfID: nil,
                        path: input.path, quantity: .powerMicrowatts, counterModulus: nil, microjoulesPerCount: 1))
                }
            }
        }
        return domains
    }

    static func domainID(_ chipID: String, _ input: HwmonSysfs.InputAttribute) -> String {
        "hwmon/\(chipID)/\(input.feature)"
    }

    /// amd_energy labels: "Esocket0" (package), "Ecore012" (core).
    static func kind(ofLabel label: String) -> EnergyDomainKind {
        let lower = label.lowercased()
        if lower.hasPrefix("esocket") || lower.hasPrefix("package") { return .package }
        if lower.hasPrefix("ecore") || lower == "core" { return .core }
        return .other
    }

    static func socketNumber(ofLabel label: String) -> Int? {
        label.lowercased().hasPrefix("esocket") ? Int(label.dropFirst("esocket".count)) : nil
    }
}
