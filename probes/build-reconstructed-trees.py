#!/usr/bin/env python3
"""Writes the hand-built probe trees under probes/ (see probes/README.md).

These are RECONSTRUCTIONS in the kernel's real file layout and units (powercap.rst, hwmon
sysfs-interface.rst, ina2xx.rst, amd_energy.rst, the perf `power` PMU's sysfs files), not captures:
the values are illustrative. Each tree holds only the files ssd-energy probe reads. Run from anywhere:
    python3 probes/build-reconstructed-trees.py
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
RAPL_SCALE = "2.3283064365386962890625e-10"   # 2^-32 J: Intel/AMD package energy unit in perf
SERVER_DRAM_SCALE = "1.52587890625e-05"       # 2^-16 J: fixed DRAM unit on Xeon servers
PKG_RANGE = 262143328850                     # 0xffffffff x 61.035 uJ (unit 2^-14 J)
DRAM_RANGE = 65712999613                     # 0xffffffff x 15.3 uJ (unit 2^-16 J)


def write(tree, path, value):
    full = os.path.join(HERE, tree, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(f"{value}\n")


def zone(tree, zone_id, name, energy, max_range):
    base = f"/sys/class/powercap/{zone_id}"
    write(tree, f"{base}/name", name)
    write(tree, f"{base}/energy_uj", energy)
    write(tree, f"{base}/max_energy_range_uj", max_range)
    write(tree, f"{base}/enabled", 1)


def power_pmu(tree, pmu_type, cpumask, events):
    base = "/sys/bus/event_source/devices/power"
    write(tree, f"{base}/type", pmu_type)
    write(tree, f"{base}/cpumask", cpumask)
    write(tree, f"{base}/format/event", "config:0-7")
    for name, config, scale in events:
        write(tree, f"{base}/events/{name}", f"event=0x{config:02x}")
        write(tree, f"{base}/events/{name}.scale", scale)
        write(tree, f"{base}/events/{name}.unit", "Joules")


def hwmon(tree, index, name, attributes):
    base = f"/sys/class/hwmon/hwmon{index}"
    write(tree, f"{base}/name", name)
    for attribute, value in attributes.items():
        write(tree, f"{base}/{attribute}", value)


def cpufreq(tree, cpus, cur, low, high, governor, driver):
    for cpu in cpus:
        base = f"/sys/devices/system/cpu/cpu{cpu}/cpufreq"
        write(tree, f"{base}/scaling_cur_freq", cur)
        write(tree, f"{base}/cpuinfo_min_freq", low)
        write(tree, f"{base}/cpuinfo_max_freq", high)
        write(tree, f"{base}/scaling_governor", governor)
        write(tree, f"{base}/scaling_driver", driver)


def thermal_zone(tree, index, type_name, millidegrees):
    write(tree, f"/sys/class/thermal/thermal_zone{index}/type", type_name)
    write(tree, f"/sys/class/thermal/thermal_zone{index}/temp", millidegrees)


def x86_cpuinfo(model, count, sockets, flags):
    per_socket = count // sockets
    lines = []
    for cpu in range(count):
        lines += [f"processor\t: {cpu}", "vendor_id\t: GenuineIntel" if "Intel" in model else "vendor_id\t: AuthenticAMD",
                  f"model name\t: {model}", f"physical id\t: {cpu // per_socket}", f"flags\t\t: {flags}", ""]
    return "\n".join(lines)


def arm_cpuinfo(part, count, hardware, model):
    lines = []
    for cpu in range(count):
        lines += [f"processor\t: {cpu}", "BogoMIPS\t: 108.00", "Features\t: fp asimd evtstrm crc32 cpuid",
                  "CPU implementer\t: 0x41", "CPU architecture: 8", f"CPU part\t: {part}", ""]
    if hardware:
        lines.append(f"Hardware\t: {hardware}")
    lines.append(f"Model\t\t: {model}")
    return "\n".join(lines)


def intel_two_socket_server():
    tree = "intel-xeon-2s-server"
    # Two packages, each with core, uncore and dram subzones; psys as a further top-level zone and an
    # MMIO view of package 0, so every nesting rule is exercised (see README: no single real machine
    # shows all of these; servers usually have dram only, psys and MMIO appear on client parts).
    zone(tree, "intel-rapl:0", "package-0", 48211734566, PKG_RANGE)
    zone(tree, "intel-rapl:0:0", "core", 30120457123, PKG_RANGE)
    zone(tree, "intel-rapl:0:1", "uncore", 1204567789, PKG_RANGE)
    zone(tree, "intel-rapl:0:2", "dram", 9876543210, DRAM_RANGE)
    zone(tree, "intel-rapl:1", "package-1", 47110223344, PKG_RANGE)
    zone(tree, "intel-rapl:1:0", "core", 29876012345, PKG_RANGE)
    zone(tree, "intel-rapl:1:1", "uncore", 1187654321, PKG_RANGE)
    zone(tree, "intel-rapl:1:2", "dram", 9765432109, DRAM_RANGE)
    zone(tree, "intel-rapl:2", "psys", 140234567890, PKG_RANGE)
    zone(tree, "intel-rapl-mmio:0", "package-0", 48211730000, PKG_RANGE)
    write(tree, "/sys/class/powercap/intel-rapl/enabled", 1)
    write(tree, "/sys/class/powercap/intel-rapl-mmio/enabled", 1)
    power_pmu(tree, 22, "0,20", [("energy-cores", 0x01, RAPL_SCALE), ("energy-pkg", 0x02, RAPL_SCALE),
                                 ("energy-ram", 0x03, SERVER_DRAM_SCALE), ("energy-psys", 0x05, RAPL_SCALE)])
    hwmon(tree, 0, "coretemp", {"temp1_input": 52000, "temp1_label": "Package id 0",
                                "temp2_input": 49000, "temp2_label": "Core 0",
                                "temp3_input": 50000, "temp3_label": "Core 1"})
    hwmon(tree, 1, "coretemp", {"temp1_input": 50000, "temp1_label": "Package id 1",
                                "temp2_input": 47000, "temp2_label": "Core 0",
                                "temp3_input": 48000, "temp3_label": "Core 1"})
    thermal_zone(tree, 0, "x86_pkg_temp", 52000)
    thermal_zone(tree, 1, "x86_pkg_temp", 50000)
    cpus = [0, 1, 20, 21]   # trimmed: the first two CPUs of each package
    cpufreq(tree, cpus, 2500000, 1000000, 3900000, "performance", "intel_pstate")
    for cpu in cpus:
        base = f"/sys/devices/system/cpu/cpu{cpu}/thermal_throttle"
        write(tree, f"{base}/core_throttle_count", 0)
        write(tree, f"{base}/package_throttle_count", 3 if cpu < 20 else 0)
        write(tree, f"{base}/core_power_limit_count", 0)
        write(tree, f"{base}/package_power_limit_count", 12 if cpu < 20 else 9)
    write(tree, "/proc/cpuinfo", x86_cpuinfo("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 40, 2,
                                             "fpu msr pae apic sse sse2 ht avx avx2 avx512f rapl"))


def amd_zen_server():
    tree = "amd-epyc-zen3-server"
    # Modern kernels (>= 5.11 for Zen 3) serve AMD RAPL through intel_rapl_msr: the same powercap
    # names, package plus a core subzone; the perf power PMU offers energy-pkg only.
    zone(tree, "intel-rapl:0", "package-0", 91234567890, 65532610987)
    zone(tree, "intel-rapl:0:0", "core", 40123456789, 65532610987)
    write(tree, "/sys/class/powercap/intel-rapl/enabled", 1)
    power_pmu(tree, 11, "0", [("energy-pkg", 0x02, RAPL_SCALE)])
    hwmon(tree, 0, "k10temp", {"temp1_input": 48750, "temp1_label": "Tctl",
                               "temp3_input": 42500, "temp3_label": "Tccd1"})
    cpufreq(tree, [0, 1, 2, 3], 2450000, 1500000, 3529000, "schedutil", "acpi-cpufreq")
    write(tree, "/proc/cpuinfo", x86_cpuinfo("AMD EPYC 7763 64-Core Processor", 16, 1,
                                             "fpu msr pae apic sse sse2 ht avx avx2 rapl"))


def amd_energy_hwmon():
    tree = "amd-epyc-zen2-amd_energy"
    # Linux 5.8-5.12 (and AMD's out-of-tree module): amd_energy hwmon, energyN_input in uJ with
    # labels EcoreNNN per core and EsocketN per socket (amd_energy.rst). Trimmed to 4 cores.
    attributes = {}
    for core in range(4):
        attributes[f"energy{core + 1}_input"] = 1500000000 + core * 12345678
        attributes[f"energy{core + 1}_label"] = f"Ecore{core:03d}"
    attributes["energy5_input"] = 9876543210
    attributes["energy5_label"] = "Esocket0"
    hwmon(tree, 0, "amd_energy", attributes)
    hwmon(tree, 1, "k10temp", {"temp1_input": 51000, "temp1_label": "Tctl"})
    write(tree, "/proc/cpuinfo", x86_cpuinfo("AMD EPYC 7502P 32-Core Processor", 8, 1,
                                             "fpu msr pae apic sse sse2 ht avx avx2"))


def raspberry_pi(tree, part, model, low, high, extra_hwmon):
    thermal_zone(tree, 0, "cpu-thermal", 48686)
    hwmon(tree, 0, "cpu_thermal", {"temp1_input": 48686})
    # rpi_volt only reports an under-voltage alarm, no input.
    hwmon(tree, 1, "rpi_volt", {"in0_lcrit_alarm": 0})
    for index, (name, attributes) in enumerate(extra_hwmon, start=2):
        hwmon(tree, index, name, attributes)
    cpufreq(tree, [0, 1, 2, 3], low, low, high, "ondemand", "cpufreq-dt")
    write(tree, "/proc/cpuinfo", arm_cpuinfo(part, 4, "BCM2835" if "4" in model else None, model))


def ina226_board():
    tree = "arm-board-ina226"
    # ina2xx driver (ina2xx.rst): in0 shunt voltage (mV), in1 bus voltage (mV), curr1 (mA),
    # power1 (uW), shunt_resistor (micro-ohm). No energy counter: power is integrated over time.
    hwmon(tree, 0, "ina226", {"in0_input": 2, "in1_input": 5080, "curr1_input": 812,
                              "power1_input": 4125000, "shunt_resistor": 2000, "update_interval": 35})
    thermal_zone(tree, 0, "cpu-thermal", 45000)
    cpufreq(tree, [0, 1, 2, 3], 1800000, 408000, 1800000, "schedutil", "cpufreq-dt")
    write(tree, "/proc/cpuinfo", arm_cpuinfo("0xd03", 4, None, "Generic Cortex-A53 board with INA226 monitor"))


def main():
    for tree in ["intel-xeon-2s-server", "amd-epyc-zen3-server", "amd-epyc-zen2-amd_energy",
                 "raspberry-pi-4", "raspberry-pi-5", "arm-board-ina226"]:
        shutil.rmtree(os.path.join(HERE, tree), ignore_errors=True)
    intel_two_socket_server()
    amd_zen_server()
    amd_energy_hwmon()
    raspberry_pi("raspberry-pi-4", "0xd08", "Raspberry Pi 4 Model B Rev 1.4", 600000, 1500000, [])
    raspberry_pi("raspberry-pi-5", "0xd0b", "Raspberry Pi 5 Model B Rev 1.0", 1500000, 2400000,
                 [("rp1_adc", {"in1_input": 1480, "in2_input": 1490, "temp1_input": 52180}),
                  ("pwmfan", {"fan1_input": 2780})])
    ina226_board()


if __name__ == "__main__":
    main()
