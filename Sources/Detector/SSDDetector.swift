import Foundation
import Imaging
import Inference
import TFLiteModel

/// An SSD model ready to detect: the interpreter, how to feed it, how to read its outputs.
///
/// The three steps are public separately (`inputTensor`, `invoke`, `decodeOutputs`) so a harness
/// can time or measure the inference alone. Not thread-safe (one Interpreter run at a time).
public final class SSDDetector {
    public let modelPath: String
    public let interpreter: Interpreter
    public let description: ModelDescription
    public let inputSpec: ImageInputSpec
    private let rawDecoder: RawOutputDecoder?

    /// Evaluation post-processing a caller may set instead of the description's (raw-output models
    /// only: a graph with TFLite_Detection_PostProcess does its own NMS).
    public struct PostProcessingOverrides: Sendable, Equatable {
        public var iouThreshold: Float?
        public var scoreThreshold: Float?
        public var maxDetections: Int?
        public init(iouThreshold: Float? = nil, scoreThreshold: Float? = nil, maxDetections: Int? = nil) {
            self.iouThreshold = iouThreshold
            self.scoreThreshold = scoreThreshold
            self.maxDetections = maxDetections
        }
    }

    /// Loads the model, resolves its description (see DescriptionResolver) and plans the interpreter.
    public init(modelPath: String, descriptionPath: String? = nil, options: Interpreter.Options = .init(),
                overrides: PostProcessingOverrides = .init()) throws {
        self.modelPath = modelPath
        let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: modelPath))
        let graph = model.mainSubgraph
        let hasPostProcess = graph.operators.contains { model.code(of: $0).name == "TFLite_Detection_PostProcess" }
        let summary = GraphSummary(outputs: graph.outputs.map { .init(name: graph.tensors[$0].name, shape: graph.tensors[$0].shape) },
                                   hasDetectionPostProcess: hasPostProcess)
        var resolved = try DescriptionResolver.resolve(modelPath: modelPath, explicitDescription: descriptionPath, graph: summary)
        if case var .raw(raw) = resolved.outputs {
            if let iou = overrides.iouThreshold { raw.nms.iouThreshold = iou }
            if let score = overrides.scoreThreshold { raw.nms.scoreThreshold = score }
            if let maxDetections = overrides.maxDetections { raw.nms.maxDetections = maxDetections }
            resolved.outputs = .raw(raw)
        }
        description = resolved
        interpreter = try Interpreter(model: model, options: options)

        guard interpreter.inputs.count == 1, let input = interpreter.inputs.first, input.shape.count == 4,
              input.shape[0] == 1, input.shape[3] == 3 else {
            throw DetectorError.modelNotUnderstood(path: modelPath,
                reason: "expected one image input [1,H,W,3], found \(interpreter.inputs.map { "\($0.name) \($0.shape)" })")
        }
        let elementType: ImageInputSpec.ElementType
        switch input.type {
        case .float32: elementType = .float32
        case .uint8: elementType = .uint8
        case .int8: elementType = .int8
        default:
            throw DetectorError.modelNotUnderstood(path: modelPath, reason: "input type \(input.type.name) is not float32, uint8 or int8")
        }
        let quantization = input.quantization
        if elementType != .float32 && quantization?.isAffine != true {
            throw DetectorError.modelNotUnderstood(path: modelPath, reason: "quantized input '\(input.name)' has no scale/zero point")
        }
        inputSpec = ImageInputSpec(elementType: elementType, width: input.shape[2], height: input.shape[1],
                                   scale: quantization?.scales.first ?? 0, zeroPoint: Int(quantization?.zeroPoints.first ?? 0))

        switch description.outputs {
        case .postProcessed:
            guard interpreter.outputs.count == 4 else {
                throw DetectorError.modelNotUnderstood(path: modelPath,
                    reason: "post-processed models have 4 outputs (boxes, classes, scores, count), found \(interpreter.outputs.count)")
            }
            rawDecoder = nil
        case let .raw(raw):
            rawDecoder = try RawOutputDecoder(raw: raw, labels: description.labels)
        }
    }

    /// Decodes, resizes (Pillow-exact bilinear) and normalises an image into the input tensor.
    public func inputTensor(for image: RGBImage) -> InputTensorData {
        let resized = PillowBilinearResize.resize(image, width: inputSpec.width, height: inputSpec.height)
        return description.preprocessing.tensor(from: resized, spec: inputSpec)
    }

    /// Feeds the input and runs the graph once.
    public func invoke(_ input: InputTensorData) throws {
        switch input {
        case let .float32(values): try interpreter.setInput(0, floats: values)
        case let .uint8(values): try interpreter.setInput(0, uint8: values)
        case let .int8(values): try interpreter.setInput(0, int8: values)
        }
        try interpreter.invoke()
    }

    /// Reads the outputs of the last `invoke` as detections in pixels of an image of the given size.
    public func decodeOutputs(imageWidth: Int, imageHeight: Int, scoreThreshold: Float? = nil) throws -> [Detection] {
        let outputs = interpreter.outputs.indices.map { dequantized(interpreter.output($0)) }
        var detections: [Detection]
        if let rawDecoder {
            detections = try rawDecoder.detections(outputs: outputs, imageWidth: imageWidth, imageHeight: imageHeight)
        } else {
            detections = PostProcessedOutputs.detections(
                boxes: outputs[0].values, classes: outputs[1].values, scores: outputs[2].values,
                count: outputs[3].values.first ?? 0, labels: description.labels,
                imageWidth: imageWidth, imageHeight: imageHeight)
        }
        if let scoreThreshold { detections.removeAll { $0.score <= scoreThreshold } }
        return detections
    }

    /// The whole pipeline for one image.
    public func detect(_ image: RGBImage, scoreThreshold: Float? = nil) throws -> [Detection] {
        try invoke(inputTensor(for: image))
        return try decodeOutputs(imageWidth: image.width, imageHeight: image.height, scoreThreshold: scoreThreshold)
    }

    public func detect(imagePath: String, scoreThreshold: Float? = nil) throws -> [Detection] {
        try detect(JPEGDecoder.decode(path: imagePath), scoreThreshold: scoreThreshold)
    }

    /// Float values of an output; quantized outputs as (q - zero point) * scale.
    private func dequantized(_ value: Interpreter.TensorValue) -> OutputTensor {
        let info = value.info
        let values: [Float]
        if let floats = value.floats {
            values = floats
        } else {
            let scale = info.quantization?.scales.first ?? 1
            let zeroPoint = Float(info.quantization?.zeroPoints.first ?? 0)
            switch info.type {
            case .uint8: values = value.bytes.map { (Float($0) - zeroPoint) * scale }
            case .int8: values = value.bytes.map { (Float(Int8(bitPattern: $0)) - zeroPoint) * scale }
            default: values = []
            }
        }
        return OutputTensor(name: info.name, shape: info.shape, values: values)
    }
}
