import ArgumentParser
import DataLocation
import Foundation
import Precision
import TFLiteModel

/// Writes a model in another precision: fp32 (dequantized from a uint8/int8 model), fp16 (float16
/// weights from fp32) or int8 (full-integer post-training quantization of an fp32 model).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Convert a .tflite model to fp32 (from uint8/int8), fp16 (from fp32) or int8 (from fp32, calibrated).",
        discussion: """
            fp32: dequantizes weights and biases, computes activations in float, drops QUANTIZE/DEQUANTIZE; \
            a uint8 input becomes float with the normalisation recorded in the file's metadata \
            (ssd_energy_provenance). fp16: float16 weights with a DEQUANTIZE in front of each consumer, as \
            the TFLite converter writes them. int8: per-channel symmetric int8 weights, per-tensor int8 \
            activations calibrated on --samples images of --calibration (default: the shared \
            data/coco-train2017-calib), int32 biases, uint8 input, float outputs.
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable { case fp32, fp16, int8 }

    @Option(name: .long, help: "The .tflite model to convert.")
    var model: String

    @Option(name: .long, help: "Target precision: fp32, fp16 or int8.")
    var to: Target

    @Option(name: .long, help: "Where to write the converted .tflite.")
    var output: String

    @Option(name: .long, help: "int8: folder of calibration JPEGs (default: <data>/data/coco-train2017-calib/images).")
    var calibration: String?

    @Option(name: .long, help: "int8: number of calibration images.")
    var samples: Int = 100

    @Option(name: .long, help: "int8: activation range method: minmax, percentile or mse.")
    var method: RangeMethod = .minmax

    @OptionGroup var dataOptions: DataOptions

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard calibration == nil || to == .int8 else { throw ValidationError("--calibration only applies to --to int8") }
    }

    func run() throws {
        let source = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
        let draft: ModelDraft
        switch to {
        case .fp32: draft = try Dequantization.convert(source)
        case .fp16: draft = try Float16Conversion.convert(source)
        case .int8:
            let folder: String
            if let calibration {
                folder = calibration
            } else {
                let data = try DataDirectory.locate(explicit: dataOptions.data)
                folder = data.url.appendingPathComponent("data/coco-train2017-calib/images").path
            }
            let images = try CalibrationImages.list(folder: folder, count: samples)
            draft = try Int8Quantization.convert(source, modelPath: model, calibrationImages: images,
                                                 calibrationFolder: folder, method: method)
        }
        let bytes = try draft.serialized()
        // Read back with our own reader before writing, so a file that cannot load is never left behind.
        let check = try TFLiteModel(bytes: bytes, fileName: output)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: output))
        } catch {
            throw UserFacingError("cannot write \(output): \(error.localizedDescription)")
        }
        print("wrote \(output): \(to.rawValue), \(check.mainSubgraph.operators.count) operators, "
            + "\(check.mainSubgraph.tensors.count) tensors, \(bytes.count) bytes")
        if let provenance = Provenance.text(in: check) { print("provenance: \(provenance)") }
    }
}

extension RangeMethod: ExpressibleByArgument {}
