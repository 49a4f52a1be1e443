/// Hints that we run under a hypervisor, where energy and PMU counters are usually missing or fake.
public struct VirtualisationHint: Codable, Hashable, Sendable {
    public let isVirtualised: Bool
    /// Each clue found ("cpuinfo flag 'hypervisor'", "/sys/hypervisor/type = xen", "DMI sys_vendor = QEMU").
    public let evidence: [String]

    static let knownVendors = ["qemu", "kvm", "vmware", "virtualbox", "innotek", "xen", "virtual machine",
                               "amazon ec2", "google", "bochs", "parallels", "openstack", "hetzner", "digitalocean"]

    public static func detect(_ reader: any SysfsReading, cpuInfo: CPUInfo?) -> VirtualisationHint {
        var evidence: [String] = []
        if let cpuInfo, cpuInfo.flags.contains("hypervisor") {
            evidence.append("cpuinfo flag 'hypervisor' (\(cpuInfo.source))")
        }
        if let type = reader.readOptionalText("/sys/hypervisor/type"), !type.isEmpty {
            evidence.append("/sys/hypervisor/type = \(type)")
        }
        for file in ["sys_vendor", "product_name", "board_vendor"] {
            let path = "/sys/class/dmi/id/\(file)"
            if let value = reader.readOptionalText(path),
               knownVendors.contains(where: { value.lowercased().contains($0) }) {
                evidence.append("DMI \(file) = \(value)")
            }
        }
        return VirtualisationHint(isVirtualised: !evidence.isEmpty, evidence: evidence)
    }
}
