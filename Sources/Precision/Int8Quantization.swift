import Foundation
import TFLiteModel

/// Full-integer post-training quantization of a float32 model, following the TFLite converter's file
/// conventions:
/// - weights of CONV_2D (axis 0) and DEPTHWISE_CONV_2D (axis 3): per-channel symmetric int8,
///   scale = max|w| / 127, zero point 0;
/// - biases: int32, scale = input scale × weight scale of the channel, zero point 0;
/// - activations: per-tensor asymmetric int8 from the calibrated range (widened to include 0);
///   LOGISTIC and SOFTMAX outputs fixed at scale 1/256, zero point -128;
///   CONCATENATION inputs share the output's parameters, and RESHAPE / PAD / pooling outputs share
///   their input's (propagated back through them to the producer when it has no other reader);
/// - input: uint8 with the same scale (zero point + 128), then QUANTIZE to int8;
/// - outputs: DEQUANTIZE to float32 under the original output names.
public enum Int8Quantization {
    /// Operators this pass quantizes, with the op version the converter writes for int8.
    static let int8Versions: [Int32: Int32] = [
        BuiltinCode.conv2D: 3, BuiltinCode.depthwiseConv2D: 3, BuiltinCode.add: 2, BuiltinCode.reshape: 1,
        BuiltinCode.concatenation: 2, BuiltinCode.logistic: 2, BuiltinCode.softmax: 2, BuiltinCode.maxPool2D: 2,
        BuiltinCode.averagePool2D: 2, BuiltinCode.pad: 2,
    ]
    static let sharesInputParameters: Set<Int32> = [BuiltinCode.reshape, BuiltinCode.pad, BuiltinCode.maxPool2D,
                                                    BuiltinCode.averagePool2D]

    public struct Parameters: Equatable, Sendable { public var scale: Float; public var zeroPoint: Int64 }

    /// Asymmetric int8 parameters covering [low, high] ∪ {0}.
    public static func parameters(low: Float, high: Float) -> Parameters {
        let lo = min(low, 0), hi = max(high, 0)
        let scale = hi > lo ? (hi - lo) / 255 : 1
        let zeroPoint = Int64(max(-128, min(127, (-128 - lo / scale).rounded())))
        return Parameters(scale: scale, zeroPoint: zeroPoint)
    }

    public static func convert(_ model: TFLiteModel, modelPath: String, calibrationImages: [String],
                               calibrationFolder: String, method: RangeMethod) throws -> ModelDraft {
        let file = model.fileName
        var draft = try ModelDraft(model)
        guard draft.inputs.count == 1, draft.tensors[draft.inputs[0]].type == .float32 else {
            throw ConversionError(file: file, reason: "int8 quantization needs one float32 input (convert quantized models to fp32 first)")
        }
        for op in draft.operators where int8Versions[op.builtinCode] == nil || op.customCode != nil {
            throw ConversionError(file: file, reason: "operator \(op.name) is not supported by the int8 quantizer "
                + "(supported: CONV_2D, DEPTHWISE_CONV_2D, ADD, RESHAPE, CONCATENATION, LOGISTIC, SOFTMAX, PAD, pooling)")
        }
        let ranges = try Calibrator.ranges(model: model, modelPath: modelPath, images: calibrationImages, method: method)

        // Activation parameters, then the sharing rules.
        var params: [Int: Parameters] = [:]
        var rangeOf = ranges
        for op in draft.operators where op.builtinCode == BuiltinCode.concatenation {
            // One range for the output and every input: their union.
            let all = (op.inputs + op.outputs).compactMap { rangeOf[$0] }
            let union = (all.map(\.low).min() ?? 0, all.map(\.high).max() ?? 0)
            for t in op.inputs + op.outputs where rangeOf[t] != nil { rangeOf[t] = union }
        }
        for (index, range) in rangeOf { params[index] = parameters(low: range.low, high: range.high) }
        for op in draft.operators where op.builtinCode == BuiltinCode.logistic || op.builtinCode == BuiltinCode.softmax {
            params[op.outputs[0]] = Parameters(scale: 1.0 / 256, zeroPoint: -128)
        }
        let readers = draft.consumers()
        func producer(_ t: Int) -> Int? { draft.operators.firstIndex { $0.outputs.contains(t) } }
        // Backwards: a shared-parameter op whose input feeds only it passes its output's parameters up.
        for op in draft.operators.reversed() where sharesInputParameters.contains(op.builtinCode) {
            let input = op.inputs[0], output = op.outputs[0]
            if readers[input]?.count == 1, producer(input) != nil, !draft.outputs.contains(input) {
                params[input] = params[output]
            }
        }
        // Forwards: otherwise the output takes the input's.
        for op in draft.operators where sharesInputParameters.contains(op.builtinCode) {
            params[op.outputs[0]] = params[op.inputs[0]]
        }

        // Constants: weights per channel, biases int32, anything else per tensor.
        var quantizedConstants = Set<Int>()
        for op in draft.operators where op.builtinCode == BuiltinCode.conv2D || op.builtinCode == BuiltinCode.depthwiseConv2D {
            let weights = op.inputs[1]
            let axis = op.builtinCode == BuiltinCode.conv2D ? 0 : 3
            guard let inputParams = params[op.inputs[0]], let data = draft.tensors[weights].data else {
                throw ConversionError(file: file, reason: "\(op.name) reading '\(draft.tensors[op.inputs[0]].name)' has no constant weights")
            }
            guard !quantizedConstants.contains(weights) else {
                throw ConversionError(file: file, reason: "weights '\(draft.tensors[weights].name)' are shared by several operators")
            }
            let (values, scales) = symmetricPerChannel(FloatBytes.floats(data), shape: draft.tensors[weights].shape, axis: axis)
            draft.tensors[weights].type = .int8
            draft.tensors[weights].data = values.map { UInt8(bitPattern: $0) }
            draft.tensors[weights].quantization = .init(scales: scales, zeroPoints: Array(repeating: 0, count: scales.count),
                                                         quantizedDimension: axis)
            quantizedConstants.insert(weights)
            if op.inputs.count > 2, op.inputs[2] >= 0, let biasData = draft.tensors[op.inputs[2]].data {
                let bias = op.inputs[2]
                let biasScales = scales.map { $0 * inputParams.scale }
                let values = FloatBytes.floats(biasData).enumerated().map { c, b in
                    Int32(clamping: Int64((b / biasScales[c]).rounded()))
                }
                draft.tensors[bias].type = .int32
                draft.tensors[bias].data = FloatBytes.int32s(values)
                draft.tensors[bias].quantization = .init(scales: biasScales, zeroPoints: Array(repeating: 0, count: biasScales.count))
                quantizedConstants.insert(bias)
            }
        }
        for index in draft.tensors.indices where draft.tensors[index].type == .float32 {
            if let data = draft.tensors[index].data, !data.isEmpty {
                guard !quantizedConstants.contains(index) else { continue }
                let values = FloatBytes.floats(data)
                let p = parameters(low: values.min() ?? 0, high: values.max() ?? 0)
                draft.tensors[index].data = values.map { UInt8(bitPattern: quantize($0, p)) }
                draft.tensors[index].type = .int8
                draft.tensors[index].quantization = .init(scales: [p.scale], zeroPoints: [p.zeroPoint])
            } else {
                guard let p = params[index] else {
                    throw ConversionError(file: file, reason: "activation '\(draft.tensors[index].name)' was never "
                        + "observed during calibration")
                }
                draft.tensors[index].type = .int8
                draft.tensors[index].quantization = .init(scales: [p.scale], zeroPoints: [p.zeroPoint])
            }
        }
        for i in draft.operators.indices { draft.operators[i].version = int8Versions[draft.operators[i].builtinCode] ?? 1 }

        // uint8 image input -> QUANTIZE -> the int8 tensor the first operators read.
        let input = draft.inputs[0]
        let inputParams = params[input]!
        let uint8Input = draft.append(.init(name: draft.tensors[input].name, shape: draft.tensors[input].shape,
                                            shapeSignature: draft.tensors[input].shapeSignature, type: .uint8,
                                            quantization: .init(scales: [inputParams.scale], zeroPoints: [inputParams.zeroPoint + 128])))
        draft.tensors[input].name += "_int8"
        draft.inputs = [uint8Input]
        draft.operators.insert(.init(builtinCode: BuiltinCode.quantize, version: 1, inputs: [uint8Input], outputs: [input]), at: 0)

        // int8 results -> DEQUANTIZE -> float32 outputs under the original names.
        draft.outputs = draft.outputs.map { output in
            let floatOutput = draft.append(.init(name: draft.tensors[output].name, shape: draft.tensors[output].shape,
                                                 shapeSignature: draft.tensors[output].shapeSignature, type: .float32))
            draft.tensors[output].name += "_int8"
            draft.operators.append(.init(builtinCode: BuiltinCode.dequantize, version: 2, inputs: [output], outputs: [floatOutput]))
            return floatOutput
        }

        draft.record(Provenance(
            precision: "int8", source: URL(fileURLWithPath: model.fileName).lastPathComponent,
            sourceProvenance: Provenance.text(in: model),
            conversion: "full-integer post-training quantization: per-channel symmetric int8 weights, int32 biases, "
                + "per-tensor asymmetric int8 activations, uint8 input, float32 outputs",
            calibration: .init(method: method.rawValue, samples: calibrationImages.count, directory: calibrationFolder)))
        return draft
    }

    static func quantize(_ value: Float, _ p: Parameters) -> Int8 {
        Int8(clamping: Int64((value / p.scale).rounded()) + p.zeroPoint)
    }

    /// Symmetric per-channel int8 along `axis`: q = round(w / s_c), s_c = max|w_c| / 127.
    public static func symmetricPerChannel(_ values: [Float], shape: [Int], axis: Int) -> ([Int8], [Float]) {
        let channels = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var maxAbs = [Float](repeating: 0, count: channels)
        for (i, v) in values.enumerated() { let c = (i / inner) % channels; maxAbs[c] = max(maxAbs[c], abs(v)) }
        // An all-zero channel gets scale 1: its weights quantize to 0 either way.
        let scales = maxAbs.map { $0 > 0 ? $0 / 127 : 1 }
        let q = values.enumerated().map { i, v -> Int8 in
            Int8(max(-127, min(127, (v / scales[(i / inner) % channels]).rounded())))
        }
        return (q, scales)
    }
}
