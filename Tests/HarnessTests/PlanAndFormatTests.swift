import Foundation
import Testing
@testable import Harness
import Telemetry

@Test func splitMix64MatchesTheReferenceSequence() {
    // Seed 0 in Vigna's splitmix64.c: 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F.
    var generator = SplitMix64(seed: 0)
    #expect([generator.next(), generator.next(), generator.next()]
            == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
}

@Test func scheduleIsASeededPermutationPerRepetition() {
    let models = ["a", "b", "c"].map { ModelEntry(id: $0, path: "/\($0)", precision: $0) }
    let plan = RunPlan(models: models, threads: [1, 2], repetitions: 4, seed: 99)
    let schedule = plan.schedule()
    #expect(schedule == plan.schedule())                     // reproducible from the seed
    #expect(schedule.count == 24)
    let ids = Set(plan.configurationKeys.map(\.id))
    for repetition in 0..<4 {
        let round = schedule.filter { $0.repetition == repetition }.map(\.configurationID)
        #expect(Set(round) == ids && round.count == 6)      // each round runs every configuration once
    }
    var other = plan
    other.seed = 100
    #expect(other.schedule() != schedule)
    #expect(Set(schedule.prefix(6).map(\.configurationID)).count == 6)
}

@Test func configFileMayGivePartialSettingsAndBadFilesNameTheFile() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ssd-energy-plan-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let good = directory.appendingPathComponent("plan.json")
    try Data("""
        {"models": [{"id": "m", "path": "/m.tflite", "precision": "fp16"}], "threads": [1, 4],
         "settings": {"windowSeconds": 60}, "powerModel": {"tdpTimesUtilisation": {"tdpWatts": 15}}}
        """.utf8).write(to: good)
    let plan = try RunPlan.load(configFile: good.path)
    #expect(plan.threads == [1, 4] && plan.repetitions == 3)
    #expect(plan.settings.windowSeconds == 60 && plan.settings.idleSeconds == 3)
    #expect(plan.powerModel == .tdpTimesUtilisation(tdpWatts: 15))

    let bad = directory.appendingPathComponent("bad.json")
    try Data(#"{"models": [], "threads": [1]}"#.utf8).write(to: bad)
    #expect(throws: RunPlanError.unreadableConfig(path: bad.path, reason: "invalid run plan: no models")) {
        try RunPlan.load(configFile: bad.path)
    }
    do {
        _ = try RunPlan.load(configFile: directory.appendingPathComponent("missing.json").path)
        Issue.record("a missing config file must throw")
    } catch {
        #expect("\(error)".contains("missing.json"))
    }
}

@Test func powerModelArgument() throws {
    #expect(try PowerModel.parse(argument: "idle=4,busy=12") == .idleBusy(idleWatts: 4, busyWatts: 12))
    #expect(try PowerModel.parse(argument: "tdp=15") == .tdpTimesUtilisation(tdpWatts: 15))
    #expect(throws: RunPlanError.self) { try PowerModel.parse(argument: "idle=4") }
    #expect(throws: RunPlanError.self) { try PowerModel.parse(argument: "tdp=-1") }
    #expect(throws: RunPlanError.self) { try PowerModel.parse(argument: "busy=3,idle=9") }
}

@Test func precisionIsReadFromTheModelFileName() {
    #expect(ModelSuite.precision(fromFileName: "ssdlite_mobilenet_v2_person_fp16") == "fp16")
    #expect(ModelSuite.precision(fromFileName: "ssd_mobilenet_v2_fpnlite_10_256_int8") == "int8")
    #expect(ModelSuite.precision(fromFileName: "ssd_mobilenet_v1_coco_quant") == "uint8")
    #expect(ModelSuite.precision(fromFileName: "mystery") == "unknown")
}

@Test func csvQuotesWhatNeedsQuotingAndReadsItBack() throws {
    let fields = ["plain", "with,comma", "with \"quotes\"", "two\nlines", ""]
    let text = CSVTable.line(fields) + CSVTable.line(["a", "b", "c", "d", "e"])
    #expect(text.hasPrefix("plain,\"with,comma\",\"with \"\"quotes\"\"\",\"two\nlines\",\n"))
    #expect(try CSVTable.parse(text, file: "t.csv") == [fields, ["a", "b", "c", "d", "e"]])
    #expect(throws: CSVError.self) { try CSVTable.parse("\"open", file: "t.csv") }
}

@Test func floatingPointOperationsWeighPackedLanes() {
    // 1 scalar single + 2 scalar double + 3 × 4-lane + 4 × 8-lane = 1 + 2 + 12 + 32 = 47 per window.
    let counters = [("FP_ARITH_INST_RETIRED:SCALAR_SINGLE", 10.0), ("FP_ARITH_INST_RETIRED:SCALAR_DOUBLE", 20),
                    ("FP_ARITH_INST_RETIRED:128B_PACKED_SINGLE", 30), ("FP_ARITH_INST_RETIRED:256B_PACKED_SINGLE", 40)]
        .map { CounterRecord(event: $0.0, value: $0.1, unavailableReason: nil) }
    let metrics = CounterMetrics(counters: counters, inferences: 10)
    #expect(metrics.floatingPointOperationsPerInference.value == 47)
    #expect(metrics.instructionsPerInference.value == nil)
    #expect(metrics.instructionsPerInference.unavailableReason == "instructions was not recorded")
    #expect(metrics.instructionsPerCycle.value == nil)
}

@Test func reportOfACorruptedRunNamesTheFile() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ssd-energy-corrupt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory.appendingPathComponent("raw"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data("{\"format\": 1}".utf8).write(to: directory.appendingPathComponent("raw/run.json"))
    do {
        try ReportRenderer.render(runDirectory: directory)
        Issue.record("a corrupted run must not render")
    } catch let error as RawRunError {
        #expect(error.file.hasSuffix("raw/run.json"))
        #expect(error.message.contains("missing key"))
    }
}

@Test func aSignalBecomesAStopRequest() throws {
    // SIGUSR1 stands in for SIGINT so the test runner's own Ctrl-C handling is left alone.
    let stop = StopRequest()
    let signals = SignalStop(stop: stop, signals: [SIGUSR1], secondSignalExits: false)
    #expect(stop.reason == nil)
    // libdispatch registers the source asynchronously and a signal sent before that is ignored, so
    // send until it is seen (bounded; no timing is asserted).
    let semaphore = DispatchSemaphore(value: 0)
    for _ in 0..<500 where stop.reason == nil {
        kill(getpid(), SIGUSR1)
        _ = semaphore.wait(timeout: .now() + .milliseconds(10))
    }
    #expect(stop.reason == "interrupted by signal \(SIGUSR1)")
    withExtendedLifetime(signals) {}
}
