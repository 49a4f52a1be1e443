import Foundation
import Precision
import TFLiteModel

/// The models a run uses when none is named: every shared SSD detector in fp32, fp16 and int8.
///
/// The shared folder ships the person model in all three precisions, but v1 only as uint8 and the ST
/// model only as int8; those shipped quantized files are their int8 entries, and their fp32 (weights
/// dequantized, activations in float) and fp16 (those weights stored as float16) are derived at the
/// start of the run (DerivedModelCache) and marked derived in every report.
public enum ModelSuite {
    /// Relative to the data directory; the precision is part of each file.
    static let shippedModels: [(id: String, path: String, precision: String)] = [
        ("ssd_mobilenet_v1_quant", "models/ssd_mobilenet_v1_coco_quant/detect.tflite", "uint8"),
        ("ssd_mobilenet_v2_fpnlite_int8", "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite", "int8"),
        ("ssdlite_person_fp32", "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite", "fp32"),
        ("ssdlite_person_fp16", "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite", "fp16"),
        ("ssdlite_person_int8", "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite", "int8"),
    ]

    /// Shipped quantized models whose float precisions the run derives: (shipped id, stem of the
    /// derived ids and cache files).
    static let derivedFrom: [(shippedID: String, stem: String)] = [
        ("ssd_mobilenet_v1_quant", "ssd_mobilenet_v1"),
        ("ssd_mobilenet_v2_fpnlite_int8", "ssd_mobilenet_v2_fpnlite"),
    ]

    /// The default suite: the shipped files under `dataDirectory` (a missing one is an error naming
    /// it) and, after each shipped quantized model, its derived fp32 and fp16 entries whose files go
    /// to `derivedModelsDirectory` (made or checked by `DerivedModelCache.prepare`).
    public static func defaultSuite(dataDirectory: URL, derivedModelsDirectory: URL) throws -> [ModelEntry] {
        var suite: [ModelEntry] = []
        for model in shippedModels {
            let path = dataDirectory.appendingPathComponent(model.path).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw RunPlanError.invalid("default model missing: \(path)")
            }
            let shipped = ModelEntry(id: model.id, path: path, precision: model.precision)
            suite.append(shipped)
            if let stem = derivedFrom.first(where: { $0.shippedID == model.id })?.stem {
                suite += derivedFloatEntries(of: shipped, stem: stem, directory: derivedModelsDirectory)
            }
        }
        return suite
    }

    /// `<stem>_fp32_derived` (dequantized) and `<stem>_fp16_derived` (float16 weights of that fp32),
    /// as files `<stem>_fp32.tflite` and `<stem>_fp32_fp16.tflite` in `directory`.
    public static func derivedFloatEntries(of shipped: ModelEntry, stem: String, directory: URL) -> [ModelEntry] {
        let fp32 = ModelDerivation.Step(precision: "fp32", path: directory.appendingPathComponent("\(stem)_fp32.tflite").path)
        let fp16 = ModelDerivation.Step(precision: "fp16", path: directory.appendingPathComponent("\(stem)_fp32_fp16.tflite").path)
        return [
            ModelEntry(id: "\(stem)_fp32_derived", path: fp32.path, precision: "fp32",
                       derivation: ModelDerivation(sourcePath: shipped.path, sourcePrecision: shipped.precision, steps: [fp32])),
            ModelEntry(id: "\(stem)_fp16_derived", path: fp16.path, precision: "fp16",
                       derivation: ModelDerivation(sourcePath: shipped.path, sourcePrecision: shipped.precision, steps: [fp32, fp16])),
        ]
    }

    /// A model named on the command line: id from the file name, precision from the name's
    /// fp32/fp16/int8/uint8/quant marker ("unknown" when it has none).
    public static func entry(forModelFile path: String) throws -> ModelEntry {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw RunPlanError.invalid("--model \(path): no such file")
        }
        let url = URL(fileURLWithPath: path)
        var id = url.deletingPathExtension().lastPathComponent
        // "detect.tflite" says nothing; its folder names the model.
        if id == "detect" || id == "model" { id = url.deletingLastPathComponent().lastPathComponent }
        return ModelEntry(id: id, path: path, precision: precision(fromFileName: id), derivation: recordedDerivation(ofModelFile: path))
    }

    /// A file written by `ssd-energy quantize` says so in its provenance: reported as derived (one
    /// step, from the source its provenance names), never as a shipped model. nil for other files,
    /// and for files the reader refuses (the workload reports those with the reason).
    static func recordedDerivation(ofModelFile path: String) -> ModelDerivation? {
        guard let model = try? TFLiteModel(contentsOf: URL(fileURLWithPath: path)),
              let text = Provenance.text(in: model), let provenance = Provenance.decode(json: text) else { return nil }
        return ModelDerivation(
            sourcePath: provenance.source, sourcePrecision: nil,
            steps: [.init(precision: provenance.precision, path: path, conversion: provenance.conversion)], madeByRun: false,
            provenance: text)
    }

    static func precision(fromFileName name: String) -> String {
        let tokens = name.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        for token in tokens.reversed() {
            switch token {
            case "fp32", "float32", "f32": return "fp32"
            case "fp16", "float16", "f16": return "fp16"
            case "int8", "i8": return "int8"
            case "uint8", "u8", "quant": return "uint8"
            default: continue
            }
        }
        return "unknown"
    }
}
