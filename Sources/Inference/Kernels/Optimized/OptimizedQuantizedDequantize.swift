import CKernels

// DEQUANTIZE of a per-tensor 8-bit tensor, equal bit for bit to Quantized.dequantize. The reference
// rounds the double product scale * (x - zeroPoint) to float; with an 8-bit zero point x - zeroPoint
// has at most 9 significant bits, so that double product is exact and rounds to the same float as one
// float multiply. The C loop (Sources/CKernels/dequantize_q.c) vectorizes that multiply; it is checked
// against the reference's expression for all 256 inputs at load, and the 256-entry table is the fallback.

extension OptimizedQuantizedKernels {
    public struct Dequantize<T: Quantized.Element>: Sendable {
        let results: KernelTable<Float>
        let scale: Float
        let zeroPoint: Int32
        /// float(x - zeroPoint) * scale equals the table for every input byte.
        let multiplyMatchesTable: Bool
        let isa: ck_isa

        /// `isa` selects the loop's instruction set (tests pass each one the CPU has).
        public init(scale: Float, zeroPoint: Int32, isa: ck_isa = ck_active_isa()) {
            let results = KernelTable<Float>(count: 256) { index in
                Float(Double(scale) * Double(T.fromTableIndex(index).widened &- zeroPoint))
            }
            self.results = results
            (self.scale, self.zeroPoint, self.isa) = (scale, zeroPoint, isa)
            multiplyMatchesTable = (0..<256).allSatisfy { index in
                let product = Float(T.fromTableIndex(index).widened &- zeroPoint) * scale
                return product.bitPattern == results.entries[index].bitPattern
            }
        }

        public func run(_ input: UnsafePointer<T>, output: UnsafeMutablePointer<Float>, count: Int) {
            if multiplyMatchesTable {
                ck_dequantize_q(input, T.isSigned ? 1 : 0, count, zeroPoint, scale, output, isa)
                return
            }
            let table = results.entries
            for i in 0..<count { output[i] = table[input[i].tableIndex] }
        }
    }
}
