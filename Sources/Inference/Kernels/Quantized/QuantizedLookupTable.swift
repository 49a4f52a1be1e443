// 8-bit elementwise functions through a 256-entry table built from the float function, as TFLite's
// LOGISTIC Prepare does for uint8/int8 outside the fixed-point-optimized kernel (LUTPopulate):
// table[q] = clamp(round(f(inScale * (q - inZp)) / outScale) + outZp), all in float.
import Foundation

extension Quantized {
    /// A table indexed by the input's bit pattern (UInt8(bitPattern:) for int8).
    public struct LookupTable<T: Element>: Sendable {
        public let entries: [T]

        public init(input: TensorQuantization, output: TensorQuantization, function: (Float) -> Float) throws {
            try input.requirePerTensor("lookup table input")
            try output.requirePerTensor("lookup table output")
            let inverseScale = 1 / output.scale
            var entries = [T](repeating: 0, count: 256)
            for value in T.minimumValue...T.maximumValue {
                let dequantized = input.scale * Float(value &- input.zeroPoint)
                let rescaled = (function(dequantized) * inverseScale).rounded(.toNearestOrAwayFromZero)
                let quantized = Int32(clampingToInt32: rescaled + Float(output.zeroPoint))
                let clamped = min(max(quantized, T.minimumValue), T.maximumValue)
                entries[Int(UInt8(truncatingIfNeeded: value))] = T(clamped: clamped)
            }
            self.entries = entries
        }

        public func apply(_ input: UnsafeBufferPointer<T>, _ output: UnsafeMutableBufferPointer<T>) throws {
            try requireCount(output, input.count, "lookup table output")
            entries.withUnsafeBufferPointer { table in
                for i in 0..<input.count {
                    output[i] = table[Int(UInt8(truncatingIfNeeded: input[i]))]
                }
            }
        }
    }

    /// LOGISTIC: 1 / (1 + exp(-x)) in float, with the C library's expf.
    public static func logisticTable<T: Element>(
        elementType: T.Type, input: TensorQuantization, output: TensorQuantization
    ) throws -> LookupTable<T> {
        try LookupTable<T>(input: input, output: output) { value in 1 / (1 + exp(-value)) }
    }
}
