/// Float reference kernels: plain loops over raw buffers with explicit parameter structs, matching
/// TFLite's reference_ops semantics. They stay as the oracle for later optimized kernels.
public enum FloatKernels {}

/// Type-generic data-movement kernels (reshape, pack, tile, slice, pad, concatenation, shape): they
/// move whole elements of any byte size, so they serve float, integer and quantized tensors alike.
public enum LayoutKernels {}

/// Output clamp of a fused activation, as TFLite's CalculateActivationRange computes it for floats.
public struct ClampRange: Sendable, Equatable {
    public var min: Float
    public var max: Float

    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }

    public static let unbounded = ClampRange(min: -.greatestFiniteMagnitude, max: .greatestFiniteMagnitude)
    public static let relu = ClampRange(min: 0, max: .greatestFiniteMagnitude)
    public static let reluN1To1 = ClampRange(min: -1, max: 1)
    public static let relu6 = ClampRange(min: 0, max: 6)

    /// TFLite's ActivationFunctionWithMinMax: min(max(x, lo), hi).
    @inline(__always) public func apply(_ x: Float) -> Float { Swift.min(Swift.max(x, min), max) }
}

/// A weight element the float kernels can read: float32, or float16 converted on the fly.
public protocol FloatWeight: Sendable {
    var floatValue: Float { get }
}

extension Float: FloatWeight {
    @inline(__always) public var floatValue: Float { self }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: FloatWeight {
    @inline(__always) public var floatValue: Float { FloatKernels.widen(float16Bits: bitPattern) }
}
#endif

extension FloatKernels {
    /// Exact float16 -> float32 from the bits. Swift's `Float(Float16)` is a library call on x86-64
    /// without F16C, ten times slower than the whole convolution; this is a shift and one multiply:
    /// placing the 15 exponent+mantissa bits at float32's mantissa end and scaling by 2^112 rebases the
    /// exponent (bias 15 -> 127) and handles subnormals too; infinities and NaNs are patched.
    @inline(__always)
    public static func widen(float16Bits h: UInt16) -> Float {
        let bits = UInt32(h)
        let sign = (bits & 0x8000) << 16
        let magnitude = bits & 0x7fff
        if magnitude >= 0x7c00 {  // infinity or NaN: keep the payload, max out the exponent
            return Float(bitPattern: sign | 0x7f80_0000 | (magnitude & 0x3ff) << 13)
        }
        let rebased = Float(bitPattern: magnitude << 13) * Float(bitPattern: 0x7780_0000)  // * 2^112
        return Float(bitPattern: rebased.bitPattern | sign)
    }
}

/// Height/width geometry shared by convolutions and pooling (NHWC).
public struct WindowGeometry: Sendable, Equatable {
    public var batches: Int
    public var inputHeight: Int, inputWidth: Int
    public var outputHeight: Int, outputWidth: Int
    public var filterHeight: Int, filterWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var dilationHeight: Int, dilationWidth: Int
    /// Rows/columns of implicit zero padding before the first input row/column.
    public var padTop: Int, padLeft: Int

    public init(batches: Int, inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int,
                filterHeight: Int, filterWidth: Int, strideHeight: Int, strideWidth: Int,
                dilationHeight: Int = 1, dilationWidth: Int = 1, padTop: Int, padLeft: Int) {
        self.batches = batches
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        self.filterHeight = filterHeight
        self.filterWidth = filterWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.padTop = padTop
        self.padLeft = padLeft
    }

    /// Output size along one axis and the padding before it, as TFLite's ComputeOutSize and
    /// ComputePaddingHeightWidth do: SAME -> ceil(in / stride); VALID -> ceil((in - effective + 1) /
    /// stride); padding = max(0, (out - 1) * stride + effective - in) / 2, the odd pixel going after.
    public static func outputSizeAndPadding(inputSize: Int, filterSize: Int, stride: Int, dilation: Int,
                                            same: Bool) -> (outputSize: Int, padBefore: Int) {
        let effectiveFilter = (filterSize - 1) * dilation + 1
        let output = same ? (inputSize + stride - 1) / stride : (inputSize - effectiveFilter + stride) / stride
        let totalPadding = max(0, (output - 1) * stride + effectiveFilter - inputSize)
        return (output, totalPadding / 2)
    }
}
