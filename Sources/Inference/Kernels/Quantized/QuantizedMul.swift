// MUL on 8-bit tensors (kernels/mul.cc Prepare, reference_ops::Mul / reference_integer_ops::Mul):
// the int32 product of the zero-point-corrected inputs is rescaled by inScale1 * inScale2 / outScale.

extension Quantized {
    public struct MulParams: Sendable {
        public var input1Offset: Int32
        public var input2Offset: Int32
        public var outputOffset: Int32
        public var outputMultiplier: Multiplier
        public var activation: ActivationRange
    }

    public static func mulParams<T: Element>(
        elementType: T.Type, input1: TensorQuantization, input2: TensorQuantization,
        output: TensorQuantization, activation: FusedActivation
    ) throws -> MulParams {
        try input1.requirePerTensor("MUL first input")
        try input2.requirePerTensor("MUL second input")
        try output.requirePerTensor("MUL output")
        let real = Double(input1.scale) * Double(input2.scale) / Double(output.scale)
        return MulParams(
            input1Offset: -input1.zeroPoint, input2Offset: -input2.zeroPoint, outputOffset: output.zeroPoint,
            outputMultiplier: try quantizeMultiplier(real),
            activation: try activationRange(activation, output: output, as: T.self))
    }

    @inline(__always)
    static func mulElement(_ a: Int32, _ b: Int32, _ params: MulParams) -> Int32 {
        let product = (a &+ params.input1Offset) &* (b &+ params.input2Offset)
        let value = multiplyByQuantizedMultiplier(product, params.outputMultiplier) &+ params.outputOffset
        return min(max(value, params.activation.minimum), params.activation.maximum)
    }

    /// Elementwise MUL with numpy-style broadcasting of the two input shapes to `outputShape`.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func mul<T: Element>(
        _ input1: UnsafeBufferPointer<T>, shape input1Shape: [Int],
        _ input2: UnsafeBufferPointer<T>, shape input2Shape: [Int],
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int],
        params: MulParams
    ) throws {
        let broadcast = try Broadcast(input1Shape, input2Shape, outputShape, "MUL")
        try requireCount(input1, input1Shape.reduce(1, *), "MUL first input")
        try requireCount(input2, input2Shape.reduce(1, *), "MUL second input")
        try requireCount(output, outputShape.reduce(1, *), "MUL output")
        broadcast.apply(input1, input2, to: output) { mulElement($0, $1, params) }
    }
}
