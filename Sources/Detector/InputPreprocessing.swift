import Imaging

/// The element type and quantization of a model's image input.
public struct ImageInputSpec: Sendable, Equatable {
    public enum ElementType: Sendable, Equatable { case float32, uint8, int8 }
    public var elementType: ElementType
    public var width: Int
    public var height: Int
    /// Quantization of uint8/int8 inputs (ignored for float32).
    public var scale: Float
    public var zeroPoint: Int

    public init(elementType: ElementType, width: Int, height: Int, scale: Float = 0, zeroPoint: Int = 0) {
        self.elementType = elementType; self.width = width; self.height = height
        self.scale = scale; self.zeroPoint = zeroPoint
    }
}

/// The bytes/values of an input tensor.
public enum InputTensorData: Sendable, Equatable {
    case float32([Float])
    case uint8([UInt8])
    case int8([Int8])
}

/// Pixels (already resized to the input size) -> input tensor, by the input's type and quantization.
///
/// The model expects normalised values f = p / std - mean / std (default 127.5/127.5, i.e. p/127.5 - 1),
/// computed in that order because it is how the reference (numpy `x / 127.5 - 1` in float32) rounds;
/// (p - mean) / std is the same number in exact arithmetic but differs by an ulp for most pixels.
/// - float32: f.
/// - uint8/int8: q = round(f / scale + zeroPoint), clamped. When that mapping is within one step of
///   the raw pixel (uint8: q ≈ p; int8: q ≈ p - 128) for every p, the raw pixel (or p - 128) is used
///   instead. Why: such inputs were quantized to carry the pixel itself (scale 1/128 zp 128,
///   scale 1/127.5 zp 127), LiteRT's reference feeds raw pixels to them, and computing the formula
///   would only add half-step rounding noise (p - 0.5 rounds either way).
public struct InputPreprocessing: Sendable, Equatable {
    public var mean: Float = 127.5
    public var std: Float = 127.5

    public init(mean: Float = 127.5, std: Float = 127.5) {
        self.mean = mean; self.std = std
    }

    public func tensor(from image: RGBImage, spec: ImageInputSpec) -> InputTensorData {
        precondition(image.width == spec.width && image.height == spec.height, "resize the image to the input size first")
        switch spec.elementType {
        case .float32:
            return .float32(image.pixels.map(normalised))
        case .uint8:
            if isIdentity(spec, offset: 0) { return .uint8(image.pixels) }
            return .uint8(image.pixels.map { UInt8(clamping: quantize($0, spec)) })
        case .int8:
            if isIdentity(spec, offset: -128) { return .int8(image.pixels.map { Int8(Int($0) - 128) }) }
            return .int8(image.pixels.map { Int8(clamping: quantize($0, spec)) })
        }
    }

    func normalised(_ pixel: UInt8) -> Float {
        Float(pixel) / std - mean / std
    }

    func quantize(_ pixel: UInt8, _ spec: ImageInputSpec) -> Int {
        let f = normalised(pixel)
        return Int((f / spec.scale + Float(spec.zeroPoint)).rounded())
    }

    /// True when the quantized value of every pixel p is within 1 of p + offset.
    func isIdentity(_ spec: ImageInputSpec, offset: Int) -> Bool {
        guard spec.scale > 0 else { return false }
        return (0...255).allSatisfy { p in
            let f = normalised(UInt8(p))
            return abs(f / spec.scale + Float(spec.zeroPoint) - Float(p + offset)) <= 1
        }
    }
}
