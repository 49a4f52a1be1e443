import DataLocation
import Foundation
import Testing
@testable import Harness

/// The built `ssd-energy` binary, run as a real process: SIGINT after the first repetition is written,
/// then `run --resume` to the end. Waits are on the results files, each bounded.
@Suite struct RunInterruptionFaultTests {
    /// The executable SwiftPM built beside this test bundle.
    static func binary() throws -> URL {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [bundleFolder, bundleFolder.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("ssd-energy")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw TestFailure("no ssd-energy executable beside \(CommandLine.arguments[0]); build it with the tests")
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Starts `ssd-energy`; its stderr goes to a file (a pipe nobody reads could fill and block it).
    static func launch(_ arguments: [String]) throws -> (Process, URL) {
        let log = scratchOutput().appendingPathExtension("log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, log)
    }

    static func text(_ log: URL) -> String {
        defer { try? FileManager.default.removeItem(at: log) }
        return (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    }

    /// Waits (bounded) for the process to exit; kills it if it does not.
    static func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate(); process.waitUntilExit(); return false }
        return true
    }

    static func finishedUnits(_ output: URL) -> [UnitRecord]? {
        guard let data = try? Data(contentsOf: output.appendingPathComponent("raw/run.json")),
              let record = try? StableJSON.decoder().decode(RunRecord.self, from: data) else { return nil }
        return record.units
    }

    @Test func sigintThenResumeFinishesEveryRepetitionOnce() throws {
        let data = try DataDirectory.locate(callerFile: #filePath)
        let models = [try data.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite"),
                      try data.requireFile("models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")]
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        // 2 models × 2 repetitions of ≥ 1 s windows on 2 images (the engine runs one thread so far).
        let arguments = ["run", "--data", data.url.path, "--model", models[0], "--model", models[1], "--repetitions", "2",
                         "--images", "2", "--window-seconds", "1", "--min-inferences", "1", "--idle-seconds", "0.2",
                         "--warmup-inferences", "0", "--interval-ms", "50", "--output", output.path]
        let (first, firstErrors) = try Self.launch(arguments)

        // SIGINT as soon as the first repetition is on disk (not after a blind sleep).
        let deadline = Date().addingTimeInterval(600)
        while first.isRunning && Date() < deadline && (Self.finishedUnits(output)?.count ?? 0) < 1 { usleep(50_000) }
        guard first.isRunning, (Self.finishedUnits(output)?.count ?? 0) >= 1 else {
            if first.isRunning { first.terminate(); first.waitUntilExit() }
            let log = Self.text(firstErrors)
            Issue.record("no repetition finished before the run ended or within 600 s (debug builds are slow; scripts/test runs release): \(log)")
            return
        }
        kill(first.processIdentifier, SIGINT)
        #expect(Self.waitForExit(first, seconds: 120), "no exit within 120 s of SIGINT")
        #expect(first.terminationStatus == 0, "\(Self.text(firstErrors))")
        let interrupted = try RawRunFiles.read(runDirectory: output)
        #expect(!interrupted.record.complete)
        #expect(interrupted.record.stopReason == "interrupted by SIGINT")
        #expect(interrupted.record.units.count >= 1 && interrupted.record.units.count < 4)
        #expect(interrupted.record.events?.first?.source == "SIGINT")
        let summaryAfterInterrupt = try String(contentsOf: output.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(summaryAfterInterrupt.contains("\"complete\" : false"))

        // Resume with the stored plan: only the unfinished repetitions run.
        let (second, secondErrors) = try Self.launch(["run", "--data", data.url.path, "--resume", output.path])
        #expect(Self.waitForExit(second, seconds: 900), "resume did not finish within 900 s")
        let log = Self.text(secondErrors)
        #expect(second.terminationStatus == 0, "resume failed: \(log)")
        #expect(log.contains("repetitions already finished"))
        #expect(!log.contains("evaluating accuracy"), "accuracy was computed again")

        let final = try RawRunFiles.read(runDirectory: output)
        #expect(final.record.complete)
        let done = final.record.units.map { ScheduledUnit(configurationID: $0.configurationID, repetition: $0.repetition) }
        #expect(done.count == 4 && Set(done).count == 4, "a repetition ran twice or not at all: \(done)")
        #expect(Set(done) == Set(final.record.plan.schedule()))
        // What session 1 measured is kept as it was.
        #expect(Array(final.record.units.prefix(interrupted.record.units.count)) == interrupted.record.units)
        #expect(final.record.accuracy == interrupted.record.accuracy)

        // tradeoff.csv: the same configurations, accuracy as computed before the interruption.
        let rows = try CSVTable.parse(String(contentsOf: output.appendingPathComponent("tradeoff.csv"), encoding: .utf8),
                                      file: "tradeoff.csv")
        let header = try #require(rows.first)
        let id = try #require(header.firstIndex(of: "configuration"))
        let ap = try #require(header.firstIndex(of: "coco_AP"))
        #expect(Set(rows.dropFirst().map { $0[id] })
                == ["ssd_mobilenet_v1_coco_quant@1t", "ssd_mobilenet_v2_fpnlite_10_256_int8@1t"])
        let expectedAP = Dictionary(uniqueKeysWithValues: interrupted.record.accuracy.map {
            ("\($0.modelID)@1t", $0.result?.meanAveragePrecision)
        })
        #expect(expectedAP.values.allSatisfy { $0 != nil }, "accuracy was not computed before the interruption")
        for row in rows.dropFirst() { #expect(Double(row[ap]) == expectedAP[row[id]] ?? nil, "\(row[id])") }
    }

    @Test func resumingWhatIsNotARunNamesTheFile() throws {
        let folder = scratchOutput()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (process, errors) = try Self.launch(["run", "--resume", folder.path])
        #expect(Self.waitForExit(process, seconds: 60))
        let message = Self.text(errors)
        #expect(process.terminationStatus != 0)
        #expect(message.contains(folder.appendingPathComponent("raw/run.json").path), "message: \(message)")
    }
}
