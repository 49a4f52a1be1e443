import Foundation
import TFLiteModel

/// uint8/int8 model -> float32 model computing the same graph in float: every quantized constant is
/// replaced by its real values (scale × (q - zero point), per channel where the file says so), every
/// quantized activation becomes float32, and QUANTIZE/DEQUANTIZE operators, now float -> float, are
/// removed. A uint8/int8 image input becomes a float32 input; the provenance records the normalisation
/// (pixel - mean) / std that equals the old input quantization, so the detector can feed the same values.
///
/// A quantized file may clamp without saying so: TOCO drops a ReLU6 whose effect the output's uint8
/// range [0, 6] already has (v1 has 27 such convolutions). Those clamps are made explicit as fused
/// activations before the ranges are dropped, or the float graph would compute a different network.
public enum Dequantization {
    public static func convert(_ model: TFLiteModel) throws -> ModelDraft {
        var draft = try ModelDraft(model)
        let location = model.fileName
        let clamps = makeImpliedClampsExplicit(&draft)
        var changed = 0
        var normalisation: Provenance.InputNormalisation?

        for index in draft.tensors.indices {
            let tensor = draft.tensors[index]
            guard let q = tensor.quantization, q.isAffine,
                  [.uint8, .int8, .int16, .int32].contains(tensor.type) else { continue }
            if draft.inputs.contains(index), tensor.type == .uint8 || tensor.type == .int8 {
                // pixel p is fed as q = p (uint8) or p - 128 (int8); real = scale * (q - zp).
                let pixelZero = Float(q.zeroPoints[0]) + (tensor.type == .int8 ? 128 : 0)
                normalisation = .init(mean: pixelZero, std: 1 / q.scales[0])
            }
            if let data = tensor.data, !data.isEmpty {
                draft.tensors[index].data = FloatBytes.bytes(try realValues(tensor, data: data, quantization: q, file: location))
            } else if tensor.type == .int32 {
                throw ConversionError(file: location, reason: "tensor '\(tensor.name)' is a quantized int32 activation, "
                    + "which this conversion does not handle")
            }
            draft.tensors[index].type = .float32
            draft.tensors[index].quantization = nil
            changed += 1
        }
        guard changed > 0 else {
            throw ConversionError(file: location, reason: "has no quantized tensors; it is already a float model")
        }

        let removed = removeIdentityConversions(&draft)
        for i in draft.operators.indices { draft.operators[i].version = floatVersion(of: draft.operators[i]) }
        draft.removeUnusedTensors()
        var provenance = Provenance(
            precision: "fp32", source: URL(fileURLWithPath: model.fileName).lastPathComponent,
            sourceProvenance: Provenance.text(in: model),
            conversion: "derived from the quantized model: \(changed) quantized tensors dequantized to float32 "
                + "(weights and biases = scale × (q - zero point)), activations computed in float32, "
                + "\(removed) QUANTIZE/DEQUANTIZE operators removed"
            + (clamps == 0 ? "" : ", \(clamps) clamps implied by uint8/int8 output ranges made explicit as fused RELU/RELU6/RELU_N1_TO_1"))
        provenance.inputNormalisation = normalisation
        draft.record(provenance)
        return draft
    }

    /// For each operator with a fused activation of NONE whose quantized output range is [0, 6],
    /// [0, x] or [-1, 1] (within one step): sets RELU6, RELU or RELU_N1_TO_1, the float activation that
    /// clamps as that range did. ([0, x] with x other than 6 keeps no upper bound: the quantized model
    /// saturated there, and no fused activation expresses it.) Returns how many were set.
    static func makeImpliedClampsExplicit(_ draft: inout ModelDraft) -> Int {
        var set = 0
        for index in draft.operators.indices {
            guard let output = draft.operators[index].outputs.first, output >= 0,
                  let activation = impliedActivation(of: draft.tensors[output]) else { continue }
            var op = draft.operators[index]
            switch op.options {
            case var .conv2D(o) where o.activation == .none: o.activation = activation; op.options = .conv2D(o)
            case var .depthwiseConv2D(o) where o.activation == .none: o.activation = activation; op.options = .depthwiseConv2D(o)
            case .add(.none): op.options = .add(activation: activation)
            case .sub(.none): op.options = .sub(activation: activation)
            case .mul(.none): op.options = .mul(activation: activation)
            case let .fullyConnected(.none, keepNumDims): op.options = .fullyConnected(activation: activation, keepNumDims: keepNumDims)
            default: continue
            }
            draft.operators[index] = op
            set += 1
        }
        return set
    }

    static func impliedActivation(of tensor: ModelDraft.Tensor) -> TFLiteModel.Activation? {
        guard let q = tensor.quantization, q.isAffine, !q.isPerChannel, let scale = q.scales.first, scale > 0 else { return nil }
        let (qmin, qmax): (Int64, Int64)
        switch tensor.type {
        case .uint8: (qmin, qmax) = (0, 255)
        case .int8: (qmin, qmax) = (-128, 127)
        default: return nil
        }
        let low = Double(scale) * Double(qmin - q.zeroPoints[0])
        let high = Double(scale) * Double(qmax - q.zeroPoints[0])
        let step = Double(scale)
        if abs(low) <= step / 2 { return abs(high - 6) <= step ? .relu6 : .relu }
        if abs(low + 1) <= step, abs(high - 1) <= step { return .reluN1To1 }
        return nil
    }

    /// scale × (q - zero point), with per-channel parameters along `quantizedDimension`.
    static func realValues(_ tensor: ModelDraft.Tensor, data: [UInt8], quantization q: TFLiteModel.Quantization,
                           file: String) throws -> [Float] {
        let raw: [Int64]
        switch tensor.type {
        case .uint8: raw = data.map { Int64($0) }
        case .int8: raw = data.map { Int64(Int8(bitPattern: $0)) }
        case .int16: raw = stride(from: 0, to: data.count, by: 2).map { Int64(Int16(bitPattern: UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8)) }
        case .int32: raw = FloatBytes.int32Values(data).map { Int64($0) }
        default: throw ConversionError(file: file, reason: "tensor '\(tensor.name)' of type \(tensor.type.name) cannot be dequantized")
        }
        guard q.isPerChannel else {
            return raw.map { q.scales[0] * Float($0 - q.zeroPoints[0]) }
        }
        // Elements after the channel axis vary fastest; the channel of element i is (i / inner) % channels.
        let inner = tensor.shape[(q.quantizedDimension + 1)...].reduce(1, *)
        let channels = q.scales.count
        return raw.enumerated().map { i, value in
            let c = (i / inner) % channels
            return q.scales[c] * Float(value - q.zeroPoints[c])
        }
    }

    /// The operator version the TFLite converter writes for the float form of `op`: versions raised only
    /// for uint8/int8 kernels go back to 1 (LiteRT's reference resolver, for one, has no TILE v3 and
    /// would refuse the file); versions raised for features (dilation, half-pixel centers) are kept.
    static func floatVersion(of op: ModelDraft.Operator) -> Int32 {
        guard op.customCode == nil else { return op.version }
        switch BuiltinOperatorNames.name(of: op.builtinCode) {
        case "CONV_2D", "ADD", "SUB", "MUL", "CONCATENATION", "RESHAPE", "LOGISTIC", "SOFTMAX", "TILE", "PAD",
             "PACK", "MAX_POOL_2D", "AVERAGE_POOL_2D", "SHAPE", "FULLY_CONNECTED", "MEAN":
            return 1
        case "DEPTHWISE_CONV_2D":
            if case .depthwiseConv2D(let o) = op.options, o.dilationWidth != 1 || o.dilationHeight != 1 { return 2 }
            return 1
        case "RESIZE_BILINEAR":
            if case .resizeBilinear(_, let halfPixelCenters) = op.options, halfPixelCenters { return 3 }
            return 1
        case "STRIDED_SLICE":
            return op.version == 2 ? 1 : op.version  // v2 is int8; v3+ are rank/feature bumps
        default:
            return op.version
        }
    }

    /// Removes QUANTIZE and DEQUANTIZE operators whose input and output are both float32 now. Keeps the
    /// output tensor (its name may be a graph output the detector looks for) by letting the producer of
    /// the input write it directly when it can, else by re-pointing readers of the output to the input.
    static func removeIdentityConversions(_ draft: inout ModelDraft) -> Int {
        var removed = 0
        var opIndex = 0
        while opIndex < draft.operators.count {
            let op = draft.operators[opIndex]
            guard op.builtinCode == BuiltinCode.quantize || op.builtinCode == BuiltinCode.dequantize,
                  let input = op.inputs.first, let output = op.outputs.first,
                  draft.tensors[input].type == .float32, draft.tensors[output].type == .float32 else {
                opIndex += 1
                continue
            }
            let otherReaders = draft.operators.enumerated().contains { $0.offset != opIndex && $0.element.inputs.contains(input) }
            let producer = draft.operators.firstIndex { $0.outputs.contains(input) }
            draft.operators.remove(at: opIndex)
            if let producer, !otherReaders, !draft.outputs.contains(input) {
                draft.operators[producer].outputs = draft.operators[producer].outputs.map { $0 == input ? output : $0 }
            } else {
                for i in draft.operators.indices {
                    draft.operators[i].inputs = draft.operators[i].inputs.map { $0 == output ? input : $0 }
                }
                draft.outputs = draft.outputs.map { $0 == output ? input : $0 }
            }
            removed += 1
        }
        return removed
    }
}
