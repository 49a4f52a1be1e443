import ArgumentParser
import Foundation
import Telemetry

/// `ssd-energy probe`: what this machine can measure, source by source (see Telemetry.MachineProbe).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show which energy, counter, temperature and frequency sources this machine offers.")

    @Flag(name: .long, help: "Print one JSON object (stable keys) instead of text.")
    var json = false

    @Option(name: .customLong("sysfs-root"), help: "Read a captured tree DIR (DIR/sys/..., DIR/proc/cpuinfo) instead of /.")
    var sysfsRoot: String?

    @Option(name: .long, help: "Seconds energy counters get to show they advance (live system only).")
    var window: Double = 0.3

    func run() throws {
        if let sysfsRoot {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: sysfsRoot, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw UserFacingError("--sysfs-root \(sysfsRoot): not a directory")
            }
        }
        guard window >= 0, window <= 60 else { throw UserFacingError("--window \(window): must be between 0 and 60 s") }
        let report = MachineProbe(reader: SysfsReader(root: sysfsRoot ?? "/"), windowSeconds: window).run()
        print(json ? try report.jsonString() : ProbeTextRenderer.render(report))
    }
}
