// ADD on 8-bit tensors (kernels/add.cc Prepare for the general 8-bit path, and
// reference_integer_ops::Add / reference_ops::Add): both inputs are shifted left by 20 bits, brought to
// a common scale (twice the larger input scale) with multipliers below one, summed, and rescaled to
// the output.

extension Quantized {
    public struct AddParams: Sendable {
        public var input1Offset: Int32
        public var input2Offset: Int32
        public var outputOffset: Int32
        public var leftShift: Int32
        public var input1Multiplier: Multiplier
        public var input2Multiplier: Multiplier
        public var outputMultiplier: Multiplier
        public var activation: ActivationRange
    }

    public static func addParams<T: Element>(
        elementType: T.Type, input1: TensorQuantization, input2: TensorQuantization,
        output: TensorQuantization, activation: FusedActivation
    ) throws -> AddParams {
        try input1.requirePerTensor("ADD first input")
        try input2.requirePerTensor("ADD second input")
        try output.requirePerTensor("ADD output")
        let leftShift: Int32 = 20
        // 2 * max(...) is a float product in TFLite, widened to double afterwards; both are exact.
        let twiceMaxInputScale = Double(2 * max(input1.scale, input2.scale))
        let realInput1 = Double(input1.scale) / twiceMaxInputScale
        let realInput2 = Double(input2.scale) / twiceMaxInputScale
        let realOutput = twiceMaxInputScale / Double(Float(1 << leftShift) * output.scale)
        return AddParams(
            input1Offset: -input1.zeroPoint, input2Offset: -input2.zeroPoint, outputOffset: output.zeroPoint,
            leftShift: leftShift,
            input1Multiplier: try quantizeMultiplierSmallerThanOne(realInput1),
            input2Multiplier: try quantizeMultiplierSmallerThanOne(realInput2),
            outputMultiplier: try quantizeMultiplierSmallerThanOne(realOutput),
            activation: try activationRange(activation, output: output, as: T.self))
    }

    @inline(__always)
    static func addElement(_ a: Int32, _ b: Int32, _ params: AddParams) -> Int32 {
        let shifted1 = (a &+ params.input1Offset) &* (1 << params.leftShift)
        let shifted2 = (b &+ params.input2Offset) &* (1 << params.leftShift)
        let scaled1 = multiplyByQuantizedMultiplierSmallerThanOne(shifted1, params.input1Multiplier)
        let scaled2 = multiplyByQuantizedMultiplierSmallerThanOne(shifted2, params.input2Multiplier)
        let sum = multiplyByQuantizedMultiplierSmallerThanOne(scaled1 &+ scaled2, params.outputMultiplier)
            &+ params.outputOffset
        return min(max(sum, params.activation.minimum), params.activation.maximum)
    }

    /// Elementwise ADD with numpy-style broadcasting of `input1Shape` and `input2Shape` to `outputShape`.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func add<T: Element>(
        _ input1: UnsafeBufferPointer<T>, shape input1Shape: [Int],
        _ input2: UnsafeBufferPointer<T>, shape input2Shape: [Int],
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int],
        params: AddParams
    ) throws {
        let broadcast = try Broadcast(input1Shape, input2Shape, outputShape, "ADD")
        try requireCount(input1, input1Shape.reduce(1, *), "ADD first input")
        try requireCount(input2, input2Shape.reduce(1, *), "ADD second input")
        try requireCount(output, outputShape.reduce(1, *), "ADD output")
        broadcast.apply(input1, input2, to: output) { addElement($0, $1, params) }
    }
}
