import Foundation
import Testing
import TFLiteModel
@testable import Inference

/// One tiny model per operator variant, built and run by LiteRT's reference kernels in
/// Fixtures/make_op_models.py; the interpreter (reader, shape inference, dispatch, kernel) must give
/// the same output: |ours - litert| <= 1e-5 * max(1, |litert|) per element.
private let cases = [
    "conv_dilated_same_relu", "conv_stride2_valid_relu6", "conv_stride2_same_even",
    "depthwise_multiplier2_stride2_same", "depthwise_valid_relu_n1_to_1",
    "average_pool_same", "max_pool_valid_relu", "add_broadcast_relu6", "mul_broadcast", "logistic",
    "softmax_beta_half", "pad", "resize_bilinear_default", "resize_bilinear_align_corners",
    "resize_bilinear_half_pixel", "strided_slice_negative_stride", "strided_slice_masks_shrink", "tile",
    "mean_spatial_keep_dims", "mean_axis_negative", "reshape_shape_tensor", "pack_axis1",
    "concatenation_last_axis", "quantize_dequantize_int8",
    // The first conv with its weights stored after the flatbuffer (Buffer.offset/size).
    "conv_external_buffers",
]

@Test(arguments: cases)
func singleOperatorModelMatchesLiteRTReference(name: String) throws {
    let model = try TFLiteModel(contentsOf: Fixtures.url("ops/\(name).tflite"))
    let input = try NumPyArray(contentsOf: Fixtures.url("ops/\(name)_input.npy"))
    let expected = try NumPyArray(contentsOf: Fixtures.url("ops/\(name)_output.npy"))
    if name.contains("external") {
        #expect(model.buffers.dropFirst().allSatisfy { $0.isExternal && !$0.range.isEmpty })
    }
    let interpreter = try Interpreter(model: model)
    try interpreter.setInput(0, bytes: input.bytes)
    try interpreter.invoke()
    let output = interpreter.output(0)
    #expect(output.info.shape == expected.shape)
    #expect(output.info.type == expected.type)
    let ours = try #require(output.floats)
    let reference = expected.bytes.withUnsafeBytes { raw in
        (0..<(expected.bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
    }
    #expect(ours.count == reference.count)
    let worst = zip(ours, reference).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(worst <= 1e-5, "\(name): worst relative error \(worst)")
}

/// Byte flips in small real models: loading, planning and running must throw or work, never trap
/// (a trap kills this test process). Every loadable, plannable variant is also invoked.
@Test func corruptedModelsThrowOrRunNeverTrap() throws {
    var random = SeededRandom(state: 0x5EED)
    var loadErrors = 0, planErrors = 0, invoked = 0
    for name in cases {
        let original = [UInt8](try Data(contentsOf: Fixtures.url("ops/\(name).tflite")))
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 2)) {
                bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: 1 + random.next() % 255)
            }
            guard let model = try? TFLiteModel(bytes: bytes, fileName: name) else {
                loadErrors += 1
                continue
            }
            // A small arena limit keeps corrupted shapes from allocating gigabytes here.
            guard let interpreter = try? Interpreter(model: model, options: .init(maxArenaBytes: 1 << 20)) else {
                planErrors += 1
                continue
            }
            if let input = interpreter.inputs.first {
                try? interpreter.setInput(0, bytes: [UInt8](repeating: 0x3f, count: input.byteCount))
            }
            try interpreter.invoke()
            for i in interpreter.outputs.indices { _ = interpreter.output(i) }
            invoked += 1
        }
    }
    #expect(loadErrors > 0 && planErrors > 0 && invoked > 0, "\(loadErrors) \(planErrors) \(invoked)")
}
