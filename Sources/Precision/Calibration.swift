import Detector
import Foundation
import Imaging
import Inference
import TFLiteModel

/// The calibration image list: the first `count` JPEGs of a folder in name order (deterministic).
public enum CalibrationImages {
    public static func list(folder: String, count: Int) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ConversionError(file: folder, reason: "calibration folder cannot be read (\(error.localizedDescription))")
        }
        let jpegs = names.filter { name in [".jpg", ".jpeg"].contains { name.lowercased().hasSuffix($0) } }.sorted()
        guard jpegs.count >= count else {
            throw ConversionError(file: folder, reason: "calibration folder has \(jpegs.count) JPEG images, \(count) requested")
        }
        return jpegs.prefix(count).map { URL(fileURLWithPath: folder).appendingPathComponent($0).path }
    }
}

/// Runs a float model over calibration images and records the range of every float activation.
///
/// Why a rewritten model rather than an interpreter hook: the same graph written with every activation
/// listed as a graph output keeps each one readable after `invoke`, with no change to the engine.
enum Calibrator {
    static func ranges(model: TFLiteModel, modelPath: String, images: [String],
                       method: RangeMethod) throws -> [Int: (low: Float, high: Float)] {
        var observed = try ModelDraft(model)
        let tracked = observed.tensors.indices.filter { index in
            observed.tensors[index].type == .float32 && (observed.tensors[index].data?.isEmpty ?? true)
        }
        observed.outputs = tracked
        let observedModel = try TFLiteModel(bytes: try observed.serialized(), fileName: "\(modelPath) (calibration copy)")
        let interpreter = try Interpreter(model: observedModel)
        // The detector's own preprocessing (resize, normalisation) for this model.
        let detector = try SSDDetector(modelPath: modelPath)

        var accumulators = [RangeAccumulator](repeating: RangeAccumulator(), count: tracked.count)
        for path in images {
            let image = try JPEGDecoder.decode(path: path)
            guard case let .float32(values) = detector.inputTensor(for: image) else {
                throw ConversionError(file: modelPath, reason: "int8 quantization needs a float32 input model")
            }
            try interpreter.setInput(0, floats: values)
            try interpreter.invoke()
            for k in tracked.indices {
                guard let floats = interpreter.output(k).floats else { continue }
                accumulators[k].add(floats, method: method)
            }
        }
        var result: [Int: (low: Float, high: Float)] = [:]
        for (k, index) in tracked.enumerated() { result[index] = accumulators[k].range(method) }
        return result
    }
}
