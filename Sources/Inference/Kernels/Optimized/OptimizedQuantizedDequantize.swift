// DEQUANTIZE of a per-tensor 8-bit tensor, equal bit for bit to Quantized.dequantize: the float result
// depends only on the input byte, so the reference's expression is evaluated for all 256 at load.

extension OptimizedQuantizedKernels {
    public struct Dequantize<T: Quantized.Element>: Sendable {
        let results: KernelTable<Float>

        public init(scale: Float, zeroPoint: Int32) {
            results = KernelTable(count: 256) { index in
                Float(Double(scale) * Double(T.fromTableIndex(index).widened &- zeroPoint))
            }
        }

        public func run(_ input: UnsafePointer<T>, output: UnsafeMutablePointer<Float>, count: Int) {
            let table = results.entries
            for i in 0..<count { output[i] = table[input[i].tableIndex] }
        }
    }
}
