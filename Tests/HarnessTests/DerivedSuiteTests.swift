import DataLocation
import Foundation
import Testing
@testable import Harness

/// The default suite is every shared model in fp32, fp16 and int8: the shipped files plus v1's and
/// ST's float precisions derived from their shipped quantized files into a cache that is reused only
/// while it can be trusted.
@Suite struct DerivedSuiteTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("derived-suite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func defaultSuiteHasEverySharedModelInThreePrecisions() throws {
        let data = try DataDirectory.locate(callerFile: #filePath)
        let cache = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        let suite = try ModelSuite.defaultSuite(dataDirectory: data.url, derivedModelsDirectory: cache)
        let byID = Dictionary(uniqueKeysWithValues: suite.map { ($0.id, $0) })
        #expect(suite.count == 9)
        #expect(suite.map(\.precision).sorted() == ["fp16", "fp16", "fp16", "fp32", "fp32", "fp32", "int8", "int8", "uint8"])

        let v1 = try data.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
        let st = try data.requireFile("models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")
        let expected: [(id: String, precision: String, source: String, sourcePrecision: String, steps: [String])] = [
            ("ssd_mobilenet_v1_fp32_derived", "fp32", v1, "uint8", ["fp32"]),
            ("ssd_mobilenet_v1_fp16_derived", "fp16", v1, "uint8", ["fp32", "fp16"]),
            ("ssd_mobilenet_v2_fpnlite_fp32_derived", "fp32", st, "int8", ["fp32"]),
            ("ssd_mobilenet_v2_fpnlite_fp16_derived", "fp16", st, "int8", ["fp32", "fp16"]),
        ]
        for e in expected {
            let entry = try #require(byID[e.id], "\(e.id) missing from the default suite")
            let derivation = try #require(entry.derivation, "\(e.id) not marked derived")
            #expect(entry.precision == e.precision)
            #expect(derivation.sourcePath == e.source)
            #expect(derivation.sourcePrecision == e.sourcePrecision)
            #expect(derivation.madeByRun)
            #expect(derivation.steps.map(\.precision) == e.steps)
            #expect(derivation.steps.last?.path == entry.path)
            #expect(entry.path.hasPrefix(cache.path + "/"))
        }
        // The shipped files are used as they are, from the data directory.
        let shipped = suite.filter { $0.derivation == nil }
        #expect(shipped.count == 5)
        #expect(shipped.allSatisfy { $0.path.hasPrefix(data.url.path) })
        // fp16's chain starts with the same fp32 file as the fp32 entry: it is made once.
        #expect(byID["ssd_mobilenet_v1_fp16_derived"]?.derivation?.steps.first?.path == byID["ssd_mobilenet_v1_fp32_derived"]?.path)
    }

    /// Makes v1 fp16 (and the fp32 it comes from), reuses both, then damages the cache three ways;
    /// each time the damaged file is remade, never trusted.
    @Test func derivedFilesAreMadeReusedAndRebuiltWhenDamaged() throws {
        let data = try DataDirectory.locate(callerFile: #filePath)
        let cache = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        let suite = try ModelSuite.defaultSuite(dataDirectory: data.url, derivedModelsDirectory: cache)
        let fp16 = try #require(suite.first { $0.id == "ssd_mobilenet_v1_fp16_derived" })
        let fp32Path = try #require(fp16.derivation?.steps.first?.path)

        let first = try DerivedModelCache.prepare(fp16)
        #expect(first.steps.map(\.rebuiltBecause) == ["not in the cache yet", "its source \(fp32Path) was remade"])
        let derivation = try #require(first.entry.derivation)
        #expect(derivation.steps[0].conversion?.contains("derived from the quantized model") == true)
        #expect(derivation.steps[1].conversion?.contains("stored as float16") == true)
        // The last file's provenance says fp16 and nests the fp32 file's, which names the shipped source.
        let provenance = try #require(derivation.provenance)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(provenance.utf8)) as? [String: Any])
        #expect(object["precision"] as? String == "fp16")
        #expect((object["source_provenance"] as? String)?.contains("detect.tflite") == true)
        for step in derivation.steps {
            #expect(FileManager.default.fileExists(atPath: step.path))
            #expect(FileManager.default.fileExists(atPath: String(step.path.dropLast(".tflite".count)) + ".ssd.json"))
        }

        let second = try DerivedModelCache.prepare(fp16)
        #expect(second.steps.map(\.rebuiltBecause) == [nil, nil])
        #expect(second.entry == first.entry)

        // Truncated fp32 file: remade, and the fp16 made from it too.
        let fullSize = try #require(FileFingerprint(path: fp32Path)).bytes
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: fp32Path))
        try handle.truncate(atOffset: 1000)
        try handle.close()
        let third = try DerivedModelCache.prepare(fp16)
        #expect(third.steps[0].rebuiltBecause?.contains("truncated or altered") == true, "\(third.steps)")
        #expect(third.steps[1].rebuiltBecause?.contains("was remade") == true)
        #expect(FileFingerprint(path: fp32Path)?.bytes == fullSize)

        // A flipped byte of the same size, an unreadable manifest, a missing description.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: fp16.path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: fp16.path))
        #expect(try DerivedModelCache.prepare(fp16).steps[1].rebuiltBecause?.contains("truncated or altered") == true)

        try Data("{".utf8).write(to: URL(fileURLWithPath: DerivedModelCache.manifestPath(forModel: fp32Path)))
        #expect(try DerivedModelCache.prepare(fp16).steps[0].rebuiltBecause?.contains("unreadable") == true)

        try FileManager.default.removeItem(atPath: String(fp16.path.dropLast(".tflite".count)) + ".ssd.json")
        #expect(try DerivedModelCache.prepare(fp16).steps[1].rebuiltBecause?.contains("description") == true)

        // After all that the cache is whole again: nothing left to remake.
        #expect(try DerivedModelCache.prepare(fp16).steps.map(\.rebuiltBecause) == [nil, nil])

        // The same file named with --model is reported as derived (its provenance says so), used as is.
        let given = try ModelSuite.entry(forModelFile: fp32Path)
        let recorded = try #require(given.derivation)
        #expect(!recorded.madeByRun)
        #expect(recorded.sourcePath == "detect.tflite")
        #expect(recorded.steps.map(\.precision) == ["fp32"])
        #expect(recorded.steps[0].conversion?.contains("derived from the quantized model") == true)
        #expect(try DerivedModelCache.prepare(given).steps.isEmpty)
        #expect(try ModelSuite.entry(forModelFile: data.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")).derivation == nil)
    }

    @Test func missingSourceIsAnErrorNamingIt() throws {
        let cache = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        let shipped = ModelEntry(id: "gone", path: cache.appendingPathComponent("gone.tflite").path, precision: "uint8")
        let entry = ModelSuite.derivedFloatEntries(of: shipped, stem: "gone", directory: cache)[0]
        let error = try #require(throws: DerivedModelError.self) { try DerivedModelCache.prepare(entry) }
        #expect(error.description.contains(shipped.path))
    }

    /// A derived model is marked as such in tradeoff.csv, summary.json and report.md, with its source,
    /// each conversion and the provenance; a shipped one says "shipped".
    @Test func reportsMarkDerivedModels() throws {
        let machine = try SimulatedMachine(zones: [], thermalZone: false)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let shipped = ModelEntry(id: "v1_quant", path: "/models/detect.tflite", precision: "uint8")
        let provenance = #"{"precision":"fp32","source":"detect.tflite","conversion":"dequantized for the test"}"#
        let derived = ModelEntry(id: "v1_fp32_derived", path: "/cache/v1_fp32.tflite", precision: "fp32", derivation: ModelDerivation(
            sourcePath: "/models/detect.tflite", sourcePrecision: "uint8",
            steps: [.init(precision: "fp32", path: "/cache/v1_fp32.tflite", conversion: "dequantized for the test")],
            provenance: provenance))
        let plan = RunPlan(models: [shipped, derived], threads: [1], repetitions: 1, seed: 3, settings: shortSettings())
        let workloads = [shipped, derived].map { PlaceholderWorkload(configuration($0, threads: 1), machine: machine) }
        let runner = try TradeoffRunner(record: machine.record(plan: plan, configurations: workloads.map(\.configuration)),
                                        workloads: workloads, accuracy: FixedAccuracy(["v1_quant": 0.2, "v1_fp32_derived": 0.19]),
                                        environment: machine.environment(), output: output)
        _ = try runner.run()

        let rows = try CSVTable.parse(try String(contentsOf: output.appendingPathComponent("tradeoff.csv"), encoding: .utf8),
                                      file: "tradeoff.csv")
        let byModel = Dictionary(uniqueKeysWithValues: rows.dropFirst().map { row in
            (row[1], Dictionary(uniqueKeysWithValues: zip(rows[0], row)))
        })
        #expect(byModel["v1_quant"]?["model_origin"] == "shipped")
        #expect(byModel["v1_quant"]?["derived_from"] == "")
        #expect(byModel["v1_fp32_derived"]?["model_origin"] == "derived")
        #expect(byModel["v1_fp32_derived"]?["derived_from"] == "/models/detect.tflite")
        #expect(byModel["v1_fp32_derived"]?["derivation"] == "fp32: dequantized for the test")

        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("summary.json")))
            as? [String: Any])
        let configurations = try #require(summary["configurations"] as? [[String: Any]])
        let derivedConfiguration = try #require(configurations.compactMap { $0["configuration"] as? [String: Any] }
            .first { ($0["key"] as? [String: Any])?["modelID"] as? String == "v1_fp32_derived" })
        let derivation = try #require(derivedConfiguration["derivation"] as? [String: Any])
        #expect(derivation["sourcePath"] as? String == "/models/detect.tflite")
        #expect(derivation["provenance"] as? String == provenance)

        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("| v1_fp32_derived@1t | fp32 (derived) |"))
        #expect(report.contains("| v1_quant@1t | uint8 |"))
        #expect(report.contains("| v1_fp32_derived | fp32 | derived from uint8 detect.tflite: fp32 dequantized | /cache/v1_fp32.tflite |"))
        #expect(report.contains("| v1_quant | uint8 | shipped |"))
        #expect(report.contains(provenance))
    }
}
