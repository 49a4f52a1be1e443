// Reference kernels for quantized tensors, bit-exact with TensorFlow Lite's reference kernels
// (tensorflow/lite/kernels/internal/reference). Everything lives in this namespace so the
// interpreter's own (float) names never collide with these.

/// Quantized (uint8 asymmetric per-tensor, int8 with per-channel weights) reference kernels.
public enum Quantized {}

extension Quantized {
    /// Why a quantized kernel or its parameters cannot be built: the model asked for something
    /// inconsistent or unsupported. The message names the operator and what is wrong.
    public struct KernelError: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The affine quantization of one tensor as a .tflite file stores it: real = scale * (q - zeroPoint).
    /// One scale/zero point per tensor, or one per slice along `quantizedDimension`.
    public struct TensorQuantization: Equatable, Sendable {
        public var scales: [Float]
        public var zeroPoints: [Int32]
        public var quantizedDimension: Int

        public init(scales: [Float], zeroPoints: [Int32], quantizedDimension: Int = 0) {
            self.scales = scales
            self.zeroPoints = zeroPoints
            self.quantizedDimension = quantizedDimension
        }

        public init(scale: Float, zeroPoint: Int32) {
            self.init(scales: [scale], zeroPoints: [zeroPoint])
        }

        /// The per-tensor scale (TFLite's `params.scale`, the first entry).
        public var scale: Float { scales.first ?? 0 }
        /// The per-tensor zero point (TFLite's `params.zero_point`, the first entry).
        public var zeroPoint: Int32 { zeroPoints.first ?? 0 }
        public var isPerChannel: Bool { scales.count > 1 }

        func requirePerTensor(_ what: String) throws {
            guard scales.count == 1, zeroPoints.count == 1 else {
                throw KernelError("\(what): needs one scale and zero point, got \(scales.count) and \(zeroPoints.count)")
            }
            guard scales[0].isFinite, scales[0] > 0 else {
                throw KernelError("\(what): scale \(scales[0]) is not a positive finite number")
            }
        }
    }

    /// The 8-bit integer element types the kernels run on.
    public protocol Element: FixedWidthInteger, Sendable {}
}

extension UInt8: Quantized.Element {}
extension Int8: Quantized.Element {}

extension Quantized.Element {
    @inline(__always) static var minimumValue: Int32 { Int32(Self.min) }
    @inline(__always) static var maximumValue: Int32 { Int32(Self.max) }
    @inline(__always) var widened: Int32 { Int32(self) }
    /// The caller has already clamped `value` into the type's range.
    @inline(__always) init(clamped value: Int32) { self.init(truncatingIfNeeded: value) }
}

extension Quantized {
    /// A tensor's dimensions checked against an expected rank, for readable error messages.
    static func requireRank(_ shape: [Int], _ rank: Int, _ what: String) throws {
        guard shape.count == rank, shape.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("\(what): expected a rank-\(rank) shape, got \(shape)")
        }
    }

    static func requireCount<T>(_ buffer: UnsafeBufferPointer<T>, _ count: Int, _ what: String) throws {
        guard buffer.count == count else {
            throw KernelError("\(what): expected \(count) elements, got \(buffer.count)")
        }
    }

    static func requireCount<T>(_ buffer: UnsafeMutableBufferPointer<T>, _ count: Int, _ what: String) throws {
        guard buffer.count == count else {
            throw KernelError("\(what): expected \(count) elements, got \(buffer.count)")
        }
    }
}
