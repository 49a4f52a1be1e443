import Foundation

/// The models a run uses when none is named: every SSD .tflite in the shared data directory.
public enum ModelSuite {
    /// Relative to the data directory; the precision is part of each file.
    static let defaultModels: [(id: String, path: String, precision: String)] = [
        ("ssd_mobilenet_v1_quant", "models/ssd_mobilenet_v1_coco_quant/detect.tflite", "uint8"),
        ("ssd_mobilenet_v2_fpnlite_int8", "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite", "int8"),
        ("ssdlite_person_fp32", "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite", "fp32"),
        ("ssdlite_person_fp16", "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite", "fp16"),
        ("ssdlite_person_int8", "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite", "int8"),
    ]

    /// The default suite under `dataDirectory`; a missing file is an error naming it.
    public static func defaultSuite(dataDirectory: URL) throws -> [ModelEntry] {
        try defaultModels.map { model in
            let path = dataDirectory.appendingPathComponent(model.path).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw RunPlanError.invalid("default model missing: \(path)")
            }
            return ModelEntry(id: model.id, path: path, precision: model.precision)
        }
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
        return ModelEntry(id: id, path: path, precision: precision(fromFileName: id))
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
