#!/usr/bin/env bash
# Capture the files `ssd-energy probe` reads from this machine into DIR, in the kernel's layout, as plain
# files (symlinked directories such as /sys/class/powercap/intel-rapl:0 or cpuN/cpufreq -> policyN are
# resolved by copying through them), so `ssd-energy probe --sysfs-root DIR` reads the same thing later.
# Unreadable files (energy_uj for non-root since CVE-2020-8694, attributes that return EIO) are skipped.
# Only reads /sys and /proc.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dest=$1
mkdir -p "$dest"
copied=0
skipped=0

# copy_file PATH: PATH as the kernel names it -> DIR/PATH, skipped when it cannot be read.
copy_file() {
    local src=$1 content
    [ -f "$src" ] || return 0
    if ! content=$(cat -- "$src" 2>/dev/null); then
        skipped=$((skipped + 1))
        return 0
    fi
    mkdir -p "$dest$(dirname -- "$src")"
    printf '%s\n' "$content" >"$dest$src"
    copied=$((copied + 1))
}

# copy_matching DIR PATTERN...: every regular file in DIR whose name matches one of the patterns.
copy_matching() {
    local dir=$1 name pattern
    shift
    [ -d "$dir" ] || return 0
    for file in "$dir"/*; do
        name=${file##*/}
        for pattern in "$@"; do
            # shellcheck disable=SC2053
            if [[ $name == $pattern ]]; then copy_file "$file"; break; fi
        done
    done
}

# RAPL through powercap: flat zone list in /sys/class/powercap and the real tree under
# /sys/devices/virtual/powercap.
for zone in /sys/class/powercap/*; do
    [ -e "$zone" ] || continue
    copy_matching "$zone" name energy_uj max_energy_range_uj enabled
done
if [ -d /sys/devices/virtual/powercap ]; then
    while IFS= read -r -d '' file; do
        case ${file##*/} in
            name | energy_uj | max_energy_range_uj | enabled) copy_file "$file" ;;
        esac
    done < <(find /sys/devices/virtual/powercap -maxdepth 4 -type f -print0 2>/dev/null)
fi

# perf PMUs: type, cpumask, events (with .scale/.unit) and format of each.
for pmu in /sys/bus/event_source/devices/*; do
    [ -e "$pmu" ] || continue
    copy_matching "$pmu" type cpumask
    copy_matching "$pmu/events" '*'
    copy_matching "$pmu/format" '*'
done

# hwmon chips, including the old layout with attributes under device/.
for chip in /sys/class/hwmon/hwmon*; do
    [ -e "$chip" ] || continue
    for dir in "$chip" "$chip/device"; do
        copy_matching "$dir" name '*_input' '*_label' '*_average' shunt_resistor update_interval
    done
done

# Thermal zones.
for zone in /sys/class/thermal/thermal_zone*; do
    [ -e "$zone" ] || continue
    copy_matching "$zone" type temp
done

# cpufreq and Intel throttle counters per CPU.
for cpu in /sys/devices/system/cpu/cpu[0-9]*; do
    copy_matching "$cpu/cpufreq" scaling_cur_freq scaling_governor scaling_driver cpuinfo_min_freq cpuinfo_max_freq
    copy_matching "$cpu/thermal_throttle" '*'
done

# Machine identity and virtualisation hints.
copy_file /proc/cpuinfo
copy_file /sys/hypervisor/type
for file in sys_vendor product_name board_vendor; do copy_file "/sys/class/dmi/id/$file"; done
# Record that these directories exist even when empty (a VM without thermal zones still has the class).
for dir in /sys/class/powercap /sys/class/hwmon /sys/class/thermal /sys/devices/system/cpu; do
    [ -d "$dir" ] && mkdir -p "$dest$dir"
done
for cpu in /sys/devices/system/cpu/cpu[0-9]*; do
    [ -d "$cpu" ] && mkdir -p "$dest$cpu"
done

echo "captured $copied files into $dest ($skipped unreadable skipped)"
