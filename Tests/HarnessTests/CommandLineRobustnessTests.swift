import DataLocation
import Foundation
import Testing

/// Bad input through the real command line: each case exits non-zero (no crash: a trap would be a
/// signal, status ≥ 128), within a bounded time, and its message names the file and what is wrong.
@Suite struct CommandLineRobustnessTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ relative: String) -> String { repository.appendingPathComponent(relative).path }

    struct Outcome {
        let status: Int32
        let crashed: Bool
        let output: String
    }

    /// Runs `ssd-energy` with stdout and stderr into one file (no pipe to fill up), bounded in time.
    static func tool(_ arguments: [String], seconds: Double = 900) throws -> Outcome {
        let log = scratchOutput().appendingPathExtension("log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = try RunInterruptionFaultTests.binary()
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let finished = RunInterruptionFaultTests.waitForExit(process, seconds: seconds)
        try handle.close()
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(finished, "ssd-energy \(arguments.joined(separator: " ")) did not finish within \(seconds) s")
        return Outcome(status: process.terminationStatus, crashed: process.terminationReason == .uncaughtSignal,
                       output: output)
    }

    /// A scratch file with these bytes, removed by the caller.
    static func scratchFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let folder = scratchOutput()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func expectCleanFailure(_ outcome: Outcome, naming file: String, _ words: [String] = [],
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!outcome.crashed, "crashed: \(outcome.output)", sourceLocation: sourceLocation)
        #expect(outcome.status != 0, "exit 0 on bad input: \(outcome.output)", sourceLocation: sourceLocation)
        #expect(outcome.output.contains(file), "message does not name \(file): \(outcome.output)",
                sourceLocation: sourceLocation)
        for word in words {
            #expect(outcome.output.localizedCaseInsensitiveContains(word), "message lacks \"\(word)\": \(outcome.output)",
                    sourceLocation: sourceLocation)
        }
        #expect(!outcome.output.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    static let tinyModel = fixture("Tests/InferenceTests/Fixtures/ops/conv_stride2_same_even.tflite")
    static let tinyInput = fixture("Tests/InferenceTests/Fixtures/ops/conv_stride2_same_even_input.npy")

    @Test(arguments: [("truncated", 0.5), ("header only", 0.05)])
    func truncatedModel(label: String, fraction: Double) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.tinyModel)))
        let file = try Self.scratchFile("truncated.tflite", Array(bytes.prefix(Int(Double(bytes.count) * fraction))))
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        expectCleanFailure(try Self.tool(["inspect", file.path]), naming: file.path)
        expectCleanFailure(try Self.tool(["invoke", "--model", file.path, "--input-npy", Self.tinyInput,
                                                  "--outputs", file.path + ".out"]), naming: file.path)
    }

    @Test func modelWithBuffersPointingOutsideTheFile() throws {
        // Every 4-byte word overwritten with a huge offset: tables, vectors and buffers point outside.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.tinyModel)))
        for offset in stride(from: 8, to: bytes.count - 4, by: 16) { bytes[offset + 3] = 0x7F }
        let file = try Self.scratchFile("corrupt.tflite", bytes)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        expectCleanFailure(try Self.tool(["inspect", file.path]), naming: file.path)
    }

    @Test func missingAndEmptyModel() throws {
        let file = try Self.scratchFile("empty.tflite", [])
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        expectCleanFailure(try Self.tool(["inspect", file.path]), naming: file.path)
        let missing = file.deletingLastPathComponent().appendingPathComponent("missing.tflite").path
        expectCleanFailure(try Self.tool(["inspect", missing]), naming: missing)
    }

    @Test func unsupportedOperator() throws {
        let model = Self.fixture("Tests/InferenceTests/Fixtures/ops/floor_unsupported.tflite")
        let outputs = scratchOutput()
        defer { try? FileManager.default.removeItem(at: outputs) }
        expectCleanFailure(try Self.tool(["invoke", "--model", model, "--input-npy", Self.tinyInput,
                                                  "--outputs", outputs.path]), naming: model, ["FLOOR"])
    }

    @Test func inputOfTheWrongSize() throws {
        // A .npy of 3 float32 values for an input that wants many more.
        var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        npy += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        npy += [Float(1), 2, 3].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let file = try Self.scratchFile("three.npy", npy)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        expectCleanFailure(try Self.tool(["invoke", "--model", Self.tinyModel, "--input-npy", file.path,
                                          "--outputs", file.path + ".out"]),
                           naming: file.path)
    }

    @Test(arguments: ["truncated_96x64.jpg", "not_a_jpeg.jpg"])
    func badImage(name: String) throws {
        let data = try DataDirectory.locate(callerFile: #filePath)
        let model = try data.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
        let image = Self.fixture("Tests/ImagingTests/Fixtures/\(name)")
        expectCleanFailure(try Self.tool(["detect", "--model", model, image]), naming: image)
    }

    @Test(arguments: ["grey_24x16.jpg", "cmyk_24x16.jpg"])
    func greyAndCMYKImagesAreDetectedOn(name: String) throws {
        let data = try DataDirectory.locate(callerFile: #filePath)
        let model = try data.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
        let outcome = try Self.tool(["detect", "--model", model, Self.fixture("Tests/ImagingTests/Fixtures/\(name)")])
        #expect(!outcome.crashed && outcome.status == 0, "\(outcome.output)")
    }

    @Test func annotationsWithMissingOrWrongTypedFields() throws {
        let good = #"{"images": [{"id": 1, "width": 10, "height": 10}], "categories": [{"id": 1, "name": "person"}], "#
        let cases = [
            good + #""annotations": [{"id": 5, "image_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}]}"#,
            good + #""annotations": [{"id": 5, "image_id": "one", "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}]}"#,
            good + #""annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "area": 1, "iscrowd": 0}]}"#,
        ]
        let results = try Self.scratchFile("results.json", Array(#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]"#.utf8))
        defer { try? FileManager.default.removeItem(at: results.deletingLastPathComponent()) }
        for (index, text) in cases.enumerated() {
            let file = try Self.scratchFile("annotations-\(index).json", Array(text.utf8))
            defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
            expectCleanFailure(try Self.tool(["cocoeval", "--annotations", file.path, "--detections", results.path]),
                               naming: file.path, ["annotation"])
        }
    }

    @Test func detectionsWithNaN() throws {
        let annotations = try Self.scratchFile("annotations.json", Array((
            #"{"images": [{"id": 1, "width": 10, "height": 10}], "categories": [{"id": 1, "name": "person"}], "#
            + #""annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}]}"#).utf8))
        defer { try? FileManager.default.removeItem(at: annotations.deletingLastPathComponent()) }
        for detection in [#"{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": NaN}"#,
                          #"{"image_id": 1, "category_id": 1, "bbox": [0, NaN, 1, 1], "score": 0.5}"#] {
            let results = try Self.scratchFile("results.json", Array("[\(detection)]".utf8))
            defer { try? FileManager.default.removeItem(at: results.deletingLastPathComponent()) }
            expectCleanFailure(try Self.tool(["cocoeval", "--annotations", annotations.path, "--detections", results.path]),
                               naming: results.path)
        }
    }
}
