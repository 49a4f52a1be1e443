/// The reason and fix texts shown for unavailable sources, kept in one place so the probe report and
/// the harness say the same thing.
public enum Remedy {
    public static let energyUJRootOnly =
        "energy_uj is readable by root only since CVE-2020-8694 (PLATYPUS): run as root, or add a udev rule "
        + "such as SUBSYSTEM==\"powercap\", ACTION==\"add\", RUN+=\"/bin/chmod o+r %S%p/energy_uj\""

    public static let noPowercap =
        "no /sys/class/powercap/intel-rapl* zones: load the intel_rapl_msr module (it also serves AMD Zen) on "
        + "bare metal; virtual machines usually expose no RAPL"

    public static let virtualisedEnergy =
        "the counter exists but did not advance over the probe window: the hypervisor exposes the interface "
        + "without real data (virtualised?); measure on bare metal or read the host's counters"

    public static func perfParanoid(current: Int64?) -> String {
        let value = current.map { " (currently \($0))" } ?? ""
        return "lower /proc/sys/kernel/perf_event_paranoid\(value), e.g. sysctl kernel.perf_event_paranoid=0 "
            + "(system-wide events need <= 0), or grant CAP_PERFMON (Linux >= 5.8) or run as root"
    }

    public static let noHardwarePMU =
        "no hardware PMU is exposed to this kernel (typical inside a VM): enable the virtual PMU on the host "
        + "(e.g. QEMU/KVM -cpu host,pmu=on) or measure on bare metal"

    public static let noPowerPMU =
        "no perf 'power' PMU (/sys/bus/event_source/devices/power): needs the rapl perf driver on a supported CPU"

    public static let noHwmonEnergy =
        "no hwmon energy or power sensor: boards with an INA2xx monitor need the ina2xx driver (device tree or "
        + "i2c new_device); amd_energy was removed in Linux 5.13, use powercap on newer kernels"

    public static let noThermal =
        "no hwmon temperature and no /sys/class/thermal zone (typical inside a VM): load coretemp/k10temp on "
        + "bare metal"

    public static let noCPUFreq =
        "no cpufreq directory: the VM or firmware does not expose frequency scaling; frequencies cannot be sampled"

    public static let capturedTree =
        "captured tree (--sysfs-root): files are a static snapshot, so advancing counters and opening perf "
        + "events are not checked"

    /// Why `perf_event_open` failed, from its errno.
    public static func perfOpenFailure(errno code: Int32, paranoid: Int64?) -> (reason: String, fix: String) {
        let name = errnoName(code)
        switch code {
        case 2, 19, 95: // ENOENT, ENODEV, EOPNOTSUPP: the event does not exist on this PMU
            return ("perf_event_open failed with \(name): the PMU does not support this event", noHardwarePMU)
        case 1, 13: // EPERM, EACCES
            return ("perf_event_open failed with \(name): not permitted", perfParanoid(current: paranoid))
        case 22: // EINVAL
            return ("perf_event_open failed with \(name): invalid attributes for this kernel/PMU",
                    "check the event string against `perf list`; the kernel may not know this encoding")
        default:
            return ("perf_event_open failed with \(name)", "see perf_event_open(2) for \(name)")
        }
    }
}

/// "ENOENT (No such file or directory)" for messages.
public func errnoName(_ code: Int32) -> String {
    let names: [Int32: String] = [1: "EPERM", 2: "ENOENT", 13: "EACCES", 16: "EBUSY", 19: "ENODEV",
                                  22: "EINVAL", 24: "EMFILE", 95: "EOPNOTSUPP", 7: "E2BIG"]
    let symbol = names[code] ?? "errno \(code)"
    return "\(symbol) (\(String(cString: strerror(code))))"
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
