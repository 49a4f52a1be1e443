import ArgumentParser
import DataLocation
import Detector
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
            data/coco-train2017-calib), int32 biases, uint8 input, float outputs. Beside OUT it writes             OUT.ssd.json (OUT without .tflite): the source model's description (labels, anchors, box coder,             NMS) with the input normalisation of the converted file, so detect, eval and run can use OUT             from any folder.
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

    @Option(name: .customLong("description"),
            help: "The source model's description file, when it is not found beside the source (see detect --description).")
    var sourceDescriptionFile: String?

    @OptionGroup var dataOptions: DataOptions

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard calibration == nil || to == .int8 else { throw ValidationError("--calibration only applies to --to int8") }
    }

    func run() throws {
        let source = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
        // Resolved first, so a bad --description fails before a long calibration. The description is
        // what makes OUT usable by detect/eval/run; a source without one still converts (invoke and
        // bench need none), with a warning.
        let sourceDescription: ModelDescription?
        do {
            sourceDescription = try DerivedModelFiles.sourceDescription(of: source, path: model, explicitDescription: sourceDescriptionFile)
        } catch {
            if sourceDescriptionFile != nil { throw UserFacingError("--description: \(error)") }
            FileHandle.standardError.write(Data(("warning: no description written beside \(output): \(error)\n").utf8))
            sourceDescription = nil
        }
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
        let written: WrittenDerivedModel
        do {
            written = try DerivedModelFiles.write(draft, to: output, sourceDescription: sourceDescription)
        } catch let error as ConversionError {
            throw UserFacingError("\(error)")
        }
        print("wrote \(output): \(to.rawValue), \(written.operatorCount) operators, "
            + "\(written.tensorCount) tensors, \(written.byteCount) bytes")
        if let path = written.descriptionPath { print("wrote \(path): its description") }
        if let provenance = written.provenanceText { print("provenance: \(provenance)") }
    }
}

extension RangeMethod: ExpressibleByArgument {}
