import ArgumentParser
import Detector
import Foundation
import Imaging
import Inference
import TFLiteModel

/// Runs a model on a given input tensor (or an image preprocessed as `detect` does) and writes every
/// output tensor as .npy, for comparing the engine with LiteRT (benchmarks/litert/) bit for bit.
struct InvokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Run a model and write each output tensor to DIR/output_<i>.npy.",
        discussion: """
            --input-npy feeds the array unchanged (its dtype and shape must equal the model input's). \
            --input-npy-dir runs every *.npy of a directory (sorted by name) through one interpreter and \
            writes DIR/<stem>/output_<i>.npy. --image decodes a JPEG, resizes it to the input (Pillow-exact \
            bilinear) and normalises/quantizes it as the model's SSD description says (as 'detect'). \
            Outputs have exactly the dtype and shape the graph produces (as LiteRT's get_tensor).
            """
    )

    @Option(name: .long, help: "The .tflite model.")
    var model: String

    @Option(name: .long, help: "A JPEG image to preprocess into the input tensor (as 'detect' does).")
    var image: String?

    @Option(name: .long, help: "With --image: the SSD model description JSON (see 'detect').")
    var description: String?

    @Option(name: .customLong("save-input"), help: "With --image: also write the input tensor to this .npy.")
    var saveInput: String?

    @Option(name: .customLong("input-npy"), help: "A .npy array fed to input 0 as is.")
    var inputNpy: String?

    @Option(name: .customLong("input-npy-dir"), help: "A directory of .npy arrays, each run once (batch mode).")
    var inputNpyDirectory: String?

    @Option(name: .long, help: "Directory for output_<i>.npy (created if missing).")
    var outputs: String

    @Option(name: .customLong("weights"), help: "How convolutions read float16 weights: widened to float32 at load, or on the fly.")
    var weightPrecision: Interpreter.WeightPrecision = .float32

    @Option(name: .long, help: "Kernel set: optimized (default) or reference (the oracle kernels, bit-exact with TFLite's reference kernels).")
    var kernels: Interpreter.KernelSet = .optimized

    @Flag(name: .long, help: "Print the output shapes and the arena size.")
    var verbose = false

    func validate() throws {
        guard [image, inputNpy, inputNpyDirectory].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --image, --input-npy and --input-npy-dir")
        }
        if image == nil && (description != nil || saveInput != nil) {
            throw ValidationError("--description and --save-input only apply with --image")
        }
    }

    func run() throws {
        let options = Interpreter.Options(weightPrecision: weightPrecision, kernels: kernels)
        if let image {
            try runImage(image, options: options)
            return
        }
        let modelFile = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
        let interpreter = try Interpreter(model: modelFile, options: options)
        guard let inputInfo = interpreter.inputs.first, interpreter.inputs.count == 1 else {
            throw UserFacingError("\(model): expected one input tensor, the model has \(interpreter.inputs.count)")
        }
        let outputDirectory = URL(fileURLWithPath: outputs)
        if let inputNpy {
            try runArray(at: inputNpy, interpreter: interpreter, inputInfo: inputInfo, writingTo: outputDirectory)
        } else if let inputNpyDirectory {
            let inputs = try npyFiles(in: inputNpyDirectory)
            for input in inputs {
                let stem = input.deletingPathExtension().lastPathComponent
                try runArray(at: input.path, interpreter: interpreter, inputInfo: inputInfo,
                             writingTo: outputDirectory.appendingPathComponent(stem))
            }
        }
        if verbose { print("arena \(interpreter.peakArenaBytes) bytes, constants \(interpreter.constantBytes) bytes") }
    }

    private func runArray(at path: String, interpreter: Interpreter, inputInfo: Interpreter.TensorInfo,
                          writingTo directory: URL) throws {
        let array = try NumPyArray(contentsOf: URL(fileURLWithPath: path))
        guard array.type == inputInfo.type, array.shape == inputInfo.shape else {
            let expected = NumPyArray.descriptorName(inputInfo.type)
            throw UserFacingError("\(path): array is \(NumPyArray.descriptorName(array.type)) \(array.shape), "
                + "but input '\(inputInfo.name)' of \(model) is \(expected) \(inputInfo.shape)")
        }
        try interpreter.setInput(0, bytes: array.bytes)
        try interpreter.invoke()
        try writeOutputs(of: interpreter, to: directory)
    }

    /// The detector's own preprocessing, so this path feeds exactly what `detect` feeds.
    private func runImage(_ imagePath: String, options: Interpreter.Options) throws {
        let detector: SSDDetector
        let input: InputTensorData
        do {
            detector = try SSDDetector(modelPath: model, descriptionPath: description, options: options)
            input = detector.inputTensor(for: try JPEGDecoder.decode(path: imagePath))
        } catch {
            throw UserFacingError("\(error)")
        }
        if let saveInput {
            let info = detector.interpreter.inputs[0]
            try NumPyArray(type: info.type, shape: info.shape, bytes: Self.bytes(of: input))
                .write(to: URL(fileURLWithPath: saveInput))
        }
        try detector.invoke(input)
        try writeOutputs(of: detector.interpreter, to: URL(fileURLWithPath: outputs))
    }

    private func writeOutputs(of interpreter: Interpreter, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for index in interpreter.outputs.indices {
            let value = interpreter.output(index)
            let url = directory.appendingPathComponent("output_\(index).npy")
            try NumPyArray(type: value.info.type, shape: value.info.shape, bytes: value.bytes).write(to: url)
            if verbose {
                print("output \(index) '\(value.info.name)' \(value.info.type.name) \(value.info.shape) -> \(url.path)")
            }
        }
    }

    private func npyFiles(in directory: String) throws -> [URL] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw UserFacingError("\(directory): cannot list the directory (\(error.localizedDescription))")
        }
        let files = names.filter { $0.hasSuffix(".npy") }.sorted()
        guard !files.isEmpty else { throw UserFacingError("\(directory): no .npy files") }
        return files.map { URL(fileURLWithPath: directory).appendingPathComponent($0) }
    }

    /// Little-endian element bytes, as a .npy stores them.
    static func bytes(of input: InputTensorData) -> [UInt8] {
        switch input {
        case let .uint8(values): return values
        case let .int8(values): return values.map { UInt8(bitPattern: $0) }
        case let .float32(values): return values.flatMap { value -> [UInt8] in
            let bits = value.bitPattern.littleEndian
            return [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff), UInt8(bits >> 24)]
        }
        }
    }
}
