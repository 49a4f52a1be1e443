import Foundation
import Testing
@testable import Telemetry

/// Real perf events on this machine. Software events count everywhere; hardware events count only
/// where the kernel has a hardware PMU (none inside this project's VM), and must then be reported
/// unavailable with an errno, never as zero.
@Suite struct PerfCounterTests {
    static let software = ["perf::PERF_COUNT_SW_TASK_CLOCK", "perf::PERF_COUNT_SW_CONTEXT_SWITCHES",
                           "perf::PERF_COUNT_SW_PAGE_FAULTS"]
    static let hardware = ["cycles", "instructions", "perf::PERF_COUNT_HW_BRANCH_MISSES"]

    /// The kernel registers its core PMU as "cpu" (x86), "cpu_core"/"cpu_atom" (hybrid) or
    /// "armv8_*"/"armv7_*" (Arm); without one, hardware events cannot open.
    static var kernelHasHardwarePMU: Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/event_source/devices")) ?? []
        return names.contains { $0 == "cpu" || $0.hasPrefix("cpu_") || $0.hasPrefix("armv8") || $0.hasPrefix("armv7") }
    }

    @Test func softwareEventsReallyCount() throws {
        let set = PerfCounterSet(events: Self.software)
        #expect(set.counters.allSatisfy { $0.availability.isOpen })
        set.start()
        // Fresh pages (page faults) and some CPU work (task clock). The pages come from mmap, not
        // malloc: a heap that other tests already touched would be reused without a single fault.
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let length = 64 * pageSize
        let mapping = try #require(mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(mapping != MAP_FAILED)
        for page in 0..<64 { mapping.storeBytes(of: 1, toByteOffset: page * pageSize, as: UInt8.self) }
        exerciseCPUAndMemory()
        set.stop()
        let readings = Dictionary(uniqueKeysWithValues: set.read().map { ($0.event, $0) })
        let taskClock = try #require(readings["perf::PERF_COUNT_SW_TASK_CLOCK"]?.value)
        #expect(taskClock > 0)
        let faults = try #require(readings["perf::PERF_COUNT_SW_PAGE_FAULTS"]?.value)
        #expect(faults >= 64)
        #expect(readings["perf::PERF_COUNT_SW_CONTEXT_SWITCHES"]?.value != nil)
        munmap(mapping, length)
    }

    @Test func hardwareEventsEncodeButAreUnavailableWithoutAPMU() throws {
        for event in Self.hardware {
            let encoding = try PfmEncoder.encode(event)
            #expect(encoding.attributes.type == 0 || encoding.attributes.type >= 4, "\(event): raw or generic PMU type")
        }
        let readings = PerfCounterSet(events: Self.hardware).read()
        for reading in readings {
            if Self.kernelHasHardwarePMU {
                #expect(reading.availability.isOpen, "\(reading.event) should open on a machine with a PMU")
            } else {
                guard case let .notOpened(code, reason, fix) = reading.availability else {
                    Issue.record("\(reading.event) opened although the kernel lists no hardware PMU")
                    continue
                }
                #expect(code != 0)
                #expect(reason.contains("perf_event_open failed"))
                #expect(!fix.isEmpty)
                #expect(reading.value == nil)
                #expect(reading.unavailableReason != nil)
            }
        }
    }

    @Test func unknownEventIsNotEncodable() {
        let reading = PerfCounterSet(events: ["NO_SUCH_EVENT_ANYWHERE"]).read()[0]
        guard case .notEncodable = reading.availability else {
            Issue.record("expected notEncodable, got \(reading.availability)")
            return
        }
        #expect(reading.value == nil)
    }

    @Test func libpfmInitialisesOnceUnderConcurrentUse() async throws {
        let codes = await withTaskGroup(of: UInt64?.self) { group in
            for _ in 0..<16 {
                group.addTask { (try? PfmEncoder.encode("perf::PERF_COUNT_SW_TASK_CLOCK"))?.attributes.config }
            }
            var all: [UInt64?] = []
            for await code in group { all.append(code) }
            return all
        }
        // PERF_COUNT_SW_TASK_CLOCK is config 1 of PERF_TYPE_SOFTWARE (linux/perf_event.h).
        #expect(codes == Array(repeating: 1, count: 16))
        #expect(try PfmEncoder.encode("perf::PERF_COUNT_SW_TASK_CLOCK").attributes.type == 1)
    }

    @Test func multiplexScalingExtrapolatesToEnabledTime() {
        #expect(PerfCount(rawValue: 100, timeEnabledNanoseconds: 200, timeRunningNanoseconds: 50).scaledValue == 400)
        #expect(PerfCount(rawValue: 100, timeEnabledNanoseconds: 200, timeRunningNanoseconds: 200).scaledValue == 100)
        #expect(PerfCount(rawValue: 0, timeEnabledNanoseconds: 200, timeRunningNanoseconds: 0).scaledValue == nil)
    }
}
