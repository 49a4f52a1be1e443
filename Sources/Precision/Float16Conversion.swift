import Foundation
import TFLiteModel

/// float32 -> float16 weights, stored as the TFLite converter stores them: every float32 constant read
/// by a builtin operator becomes a float16 constant followed by a DEQUANTIZE to float32, placed at the
/// start of the graph. Activations stay float32, so LiteRT (and our engine) compute in float32.
///
/// Constants read by custom operators (TFLite_Detection_PostProcess anchors) stay float32: custom
/// kernels read their inputs as given, and rounding anchors to float16 would move every box.
public enum Float16Conversion {
    /// DEQUANTIZE version for a float16 input (schema op version 3).
    static let dequantizeVersion: Int32 = 3

    public static func convert(_ model: TFLiteModel) throws -> ModelDraft {
        var draft = try ModelDraft(model)
        let graph = draft
        var float16Outputs: [Int: Int] = [:]  // float32 constant -> its DEQUANTIZE output
        var dequantizeOps: [ModelDraft.Operator] = []
        for (opIndex, op) in graph.operators.enumerated() where op.customCode == nil {
            for (slot, input) in op.inputs.enumerated() where input >= 0 {
                let tensor = graph.tensors[input]
                guard tensor.type == .float32, let data = tensor.data, !data.isEmpty else { continue }
                if let existing = float16Outputs[input] {
                    draft.operators[opIndex].inputs[slot] = existing
                    continue
                }
                // The float16 constant takes the original tensor's place in the buffer list; the
                // original becomes the (non-constant) DEQUANTIZE output consumers keep reading.
                let halves = FloatBytes.floats(data).flatMap { FloatBytes.bytes(ofHalf: Float16($0)) }
                let constant = draft.append(.init(name: tensor.name, shape: tensor.shape, shapeSignature: tensor.shapeSignature,
                                                  type: .float16, data: halves))
                draft.tensors[input].data = nil
                float16Outputs[input] = input
                dequantizeOps.append(.init(builtinCode: BuiltinCode.dequantize, version: dequantizeVersion,
                                           inputs: [constant], outputs: [input]))
            }
        }
        guard !dequantizeOps.isEmpty else {
            throw ConversionError(file: model.fileName, reason: "has no float32 weights to store as float16 "
                + "(convert a quantized model to fp32 first)")
        }
        draft.operators = dequantizeOps + draft.operators
        draft.record(Provenance(precision: "fp16", source: URL(fileURLWithPath: model.fileName).lastPathComponent,
                                sourceProvenance: Provenance.text(in: model),
                                conversion: "float32 weights and biases stored as float16, each followed by a DEQUANTIZE "
                                    + "to float32 (\(dequantizeOps.count) tensors); activations computed in float32"))
        return draft
    }
}

/// Little-endian float32/float16 <-> bytes.
enum FloatBytes {
    static func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    static func bytes(_ floats: [Float]) -> [UInt8] {
        floats.flatMap { value -> [UInt8] in
            let bits = value.bitPattern
            return [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff), UInt8(bits >> 24)]
        }
    }

    static func bytes(ofHalf value: Float16) -> [UInt8] {
        let bits = value.bitPattern
        return [UInt8(bits & 0xff), UInt8(bits >> 8)]
    }

    static func int32s(_ values: [Int32]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in
            let bits = UInt32(bitPattern: v)
            return [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff), UInt8(bits >> 24)]
        }
    }

    static func int32Values(_ bytes: [UInt8]) -> [Int32] {
        stride(from: 0, to: bytes.count, by: 4).map { i in
            Int32(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }
}
