// Parameters shared by CONV_2D and DEPTHWISE_CONV_2D, computed as the kernels' Prepare functions do
// (kernel_util.cc PopulateConvolutionQuantizationParams).

extension Quantized {
    /// Everything a quantized (depthwise) convolution needs besides its buffers and shapes.
    public struct ConvParams: Sendable {
        public var strideHeight: Int
        public var strideWidth: Int
        public var dilationHeight: Int
        public var dilationWidth: Int
        /// Implicit zero-point padding before the first row / column.
        public var paddingHeight: Int
        public var paddingWidth: Int
        /// Added to every input / filter value: minus the zero point (0 for symmetric int8 filters).
        public var inputOffset: Int32
        public var filterOffset: Int32
        /// The output zero point.
        public var outputOffset: Int32
        /// One rescaling per output channel (the same value repeated for per-tensor filters).
        public var outputMultipliers: [Multiplier]
        public var activation: ActivationRange
        /// Only for depthwise convolution: output channels per input channel.
        public var depthMultiplier: Int

        public init(
            strideHeight: Int, strideWidth: Int, dilationHeight: Int, dilationWidth: Int,
            paddingHeight: Int, paddingWidth: Int, inputOffset: Int32, filterOffset: Int32,
            outputOffset: Int32, outputMultipliers: [Multiplier], activation: ActivationRange,
            depthMultiplier: Int = 1
        ) {
            self.strideHeight = strideHeight
            self.strideWidth = strideWidth
            self.dilationHeight = dilationHeight
            self.dilationWidth = dilationWidth
            self.paddingHeight = paddingHeight
            self.paddingWidth = paddingWidth
            self.inputOffset = inputOffset
            self.filterOffset = filterOffset
            self.outputOffset = outputOffset
            self.outputMultipliers = outputMultipliers
            self.activation = activation
            self.depthMultiplier = depthMultiplier
        }
    }

    /// Which convolution a ConvParams is for: the filter layout differs.
    public enum ConvolutionKind: Sendable {
        /// CONV_2D: filter [outputChannels, height, width, inputChannels / groups].
        case regular
        /// DEPTHWISE_CONV_2D: filter [1, height, width, inputChannels * depthMultiplier].
        case depthwise(depthMultiplier: Int)
    }

    /// Builds the parameters from what the model stores: tensor quantizations, NHWC input shape,
    /// filter shape, stride, dilation, padding scheme and fused activation. `T` is the activation type
    /// (uint8: per-tensor asymmetric filter; int8: symmetric filter, per-tensor or per-channel).
    public static func convolutionParams<T: Element>(
        _ kind: ConvolutionKind, elementType: T.Type,
        input: TensorQuantization, inputShape: [Int],
        filter: TensorQuantization, filterShape: [Int],
        output: TensorQuantization,
        strideHeight: Int, strideWidth: Int, dilationHeight: Int = 1, dilationWidth: Int = 1,
        padding: Padding, activation: FusedActivation
    ) throws -> ConvParams {
        let what = kind.isDepthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D"
        try requireRank(inputShape, 4, "\(what) input")
        try requireRank(filterShape, 4, "\(what) filter")
        try input.requirePerTensor("\(what) input")
        try output.requirePerTensor("\(what) output")
        let channelDimension: Int
        var depthMultiplier = 1
        switch kind {
        case .regular:
            channelDimension = 0
        case .depthwise(let multiplier):
            channelDimension = 3
            depthMultiplier = multiplier
            guard multiplier >= 1, filterShape[0] == 1, filterShape[3] == inputShape[3] * multiplier else {
                throw KernelError("\(what): filter \(filterShape) does not match input \(inputShape) with depth multiplier \(multiplier)")
            }
        }
        let channels = filterShape[channelDimension]
        guard !filter.scales.isEmpty, filter.zeroPoints.count == filter.scales.count else {
            throw KernelError("\(what) filter: \(filter.scales.count) scales but \(filter.zeroPoints.count) zero points")
        }
        if filter.isPerChannel {
            guard T.self == Int8.self else { throw KernelError("\(what): per-channel filter quantization needs int8 tensors") }
            guard filter.scales.count == channels, filter.quantizedDimension == channelDimension else {
                throw KernelError("\(what) filter: \(filter.scales.count) scales along dimension \(filter.quantizedDimension), expected \(channels) along \(channelDimension)")
            }
        }
        let filterOffset: Int32
        if T.self == Int8.self {
            // TFLite's int8 kernels assume symmetric filters and never read the filter zero point.
            guard filter.zeroPoints.allSatisfy({ $0 == 0 }) else {
                throw KernelError("\(what) filter: int8 filter zero points must be 0, got \(filter.zeroPoints.prefix(4))")
            }
            filterOffset = 0
        } else {
            filterOffset = -filter.zeroPoint
        }
        let inputScale = Double(input.scale)
        let outputScale = Double(output.scale)
        var multipliers: [Multiplier] = []
        multipliers.reserveCapacity(channels)
        for channel in 0..<channels {
            let filterScale = filter.isPerChannel ? filter.scales[channel] : filter.scales[0]
            guard filterScale.isFinite, filterScale >= 0 else {
                throw KernelError("\(what) filter: scale \(filterScale) of channel \(channel) is not a finite non-negative number")
            }
            let real: Double
            if T.self == UInt8.self {
                // The uint8 kernels use the legacy per-tensor multiplier (GetQuantizedConvolutionMultipler),
                // whose input * filter product is a float product; it changes the last bits of the
                // multiplier and, rarely, an output by one.
                real = Double(input.scale * filterScale) / outputScale
            } else {
                real = inputScale * Double(filterScale) / outputScale
            }
            multipliers.append(try quantizeMultiplier(real))
        }
        let rows = try paddedDimension(padding, inputSize: inputShape[1], filterSize: filterShape[1],
                                       stride: strideHeight, dilation: dilationHeight)
        let columns = try paddedDimension(padding, inputSize: inputShape[2], filterSize: filterShape[2],
                                          stride: strideWidth, dilation: dilationWidth)
        return ConvParams(
            strideHeight: strideHeight, strideWidth: strideWidth,
            dilationHeight: dilationHeight, dilationWidth: dilationWidth,
            paddingHeight: rows.paddingBefore, paddingWidth: columns.paddingBefore,
            inputOffset: -input.zeroPoint, filterOffset: filterOffset, outputOffset: output.zeroPoint,
            outputMultipliers: multipliers,
            activation: try activationRange(activation, output: output, as: T.self),
            depthMultiplier: depthMultiplier)
    }

    /// The NHWC output shape a convolution with these parameters produces.
    public static func convolutionOutputShape(
        _ kind: ConvolutionKind, inputShape: [Int], filterShape: [Int],
        strideHeight: Int, strideWidth: Int, dilationHeight: Int = 1, dilationWidth: Int = 1, padding: Padding
    ) throws -> [Int] {
        try requireRank(inputShape, 4, "convolution input")
        try requireRank(filterShape, 4, "convolution filter")
        let rows = try paddedDimension(padding, inputSize: inputShape[1], filterSize: filterShape[1],
                                       stride: strideHeight, dilation: dilationHeight)
        let columns = try paddedDimension(padding, inputSize: inputShape[2], filterSize: filterShape[2],
                                          stride: strideWidth, dilation: dilationWidth)
        let channels = kind.isDepthwise ? filterShape[3] : filterShape[0]
        return [inputShape[0], rows.outputSize, columns.outputSize, channels]
    }
}

extension Quantized.ConvolutionKind {
    var isDepthwise: Bool {
        if case .depthwise = self { return true }
        return false
    }
}
