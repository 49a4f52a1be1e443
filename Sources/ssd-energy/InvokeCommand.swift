import ArgumentParser
import Foundation
import Inference
import TFLiteModel

/// Runs a model once on a given input tensor and writes every output tensor as .npy, for comparing the
/// engine with LiteRT (benchmarks/litert/compare_outputs.py) bit for bit.
struct InvokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Run a model once and write each output tensor to DIR/output_<i>.npy.",
        discussion: """
            --input-npy feeds the array unchanged (its dtype and shape must equal the model input's). \
            Outputs have exactly the dtype and shape the graph produces (as LiteRT's get_tensor).
            """
    )

    @Option(name: .long, help: "The .tflite model.")
    var model: String

    @Option(name: .long, help: "An image to preprocess into the input tensor (needs the Imaging module).")
    var image: String?

    @Option(name: .customLong("input-npy"), help: "A .npy array fed to input 0 as is.")
    var inputNpy: String?

    @Option(name: .long, help: "Directory for output_<i>.npy (created if missing).")
    var outputs: String

    @Option(name: .customLong("weights"), help: "float32 (default) or float16-on-the-fly.")
    var weightPrecision: String = Interpreter.WeightPrecision.float32.rawValue

    @Flag(name: .long, help: "Print the output shapes and the arena size.")
    var verbose = false

    func validate() throws {
        guard (image == nil) != (inputNpy == nil) else {
            throw ValidationError("give exactly one of --image and --input-npy")
        }
        guard Interpreter.WeightPrecision(rawValue: weightPrecision) != nil else {
            throw ValidationError("--weights must be one of "
                + Interpreter.WeightPrecision.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func run() throws {
        let modelFile = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
        let precision = Interpreter.WeightPrecision(rawValue: weightPrecision)!
        let interpreter = try Interpreter(model: modelFile, options: .init(weightPrecision: precision))
        guard let inputInfo = interpreter.inputs.first, interpreter.inputs.count == 1 else {
            throw UserFacingError("\(model): expected one input tensor, the model has \(interpreter.inputs.count)")
        }
        if image != nil {
            throw UserFacingError("--image needs the Imaging module's preprocessing, which is not wired into "
                + "'invoke' yet; use --input-npy")
        }
        let array = try NumPyArray(contentsOf: URL(fileURLWithPath: inputNpy!))
        guard array.type == inputInfo.type, array.shape == inputInfo.shape else {
            let expected = NumPyArray.descriptorName(inputInfo.type)
            throw UserFacingError("\(inputNpy!): array is \(NumPyArray.descriptorName(array.type)) \(array.shape), "
                + "but input '\(inputInfo.name)' of \(model) is \(expected) \(inputInfo.shape)")
        }
        try interpreter.setInput(0, bytes: array.bytes)
        try interpreter.invoke()

        let directory = URL(fileURLWithPath: outputs)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for index in interpreter.outputs.indices {
            let value = interpreter.output(index)
            let url = directory.appendingPathComponent("output_\(index).npy")
            try NumPyArray(type: value.info.type, shape: value.info.shape, bytes: value.bytes).write(to: url)
            if verbose {
                print("output \(index) '\(value.info.name)' \(value.info.type.name) \(value.info.shape) -> \(url.path)")
            }
        }
        if verbose { print("arena \(interpreter.peakArenaBytes) bytes, constants \(interpreter.constantBytes) bytes") }
    }
}
