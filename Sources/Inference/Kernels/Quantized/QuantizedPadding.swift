// How TFLite turns SAME/VALID into an output size and explicit padding
// (kernels/padding.h ComputePaddingHeightWidth).

extension Quantized {
    /// A .tflite Padding.
    public enum Padding: Sendable {
        case same, valid
    }

    /// One spatial dimension of a windowed op: output size and the padding before the first element.
    /// (TFLite's extra `offset`, the odd padding unit placed after, is implied by the output size.)
    public struct PaddedDimension: Equatable, Sendable {
        public var outputSize: Int
        public var paddingBefore: Int
    }

    public static func paddedDimension(
        _ padding: Padding, inputSize: Int, filterSize: Int, stride: Int, dilation: Int = 1
    ) throws -> PaddedDimension {
        guard inputSize >= 0, filterSize >= 1, stride >= 1, dilation >= 1 else {
            throw KernelError("padding: invalid size \(inputSize), filter \(filterSize), stride \(stride), dilation \(dilation)")
        }
        let effectiveFilter = (filterSize - 1) * dilation + 1
        let outputSize: Int
        switch padding {
        case .same: outputSize = (inputSize + stride - 1) / stride
        case .valid: outputSize = (inputSize + stride - effectiveFilter) / stride
        }
        guard outputSize >= 1 else {
            throw KernelError("padding: filter \(effectiveFilter) does not fit input \(inputSize) with VALID padding")
        }
        let total = max((outputSize - 1) * stride + effectiveFilter - inputSize, 0)
        return PaddedDimension(outputSize: outputSize, paddingBefore: total / 2)
    }
}
