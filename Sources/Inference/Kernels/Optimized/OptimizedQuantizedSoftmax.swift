import CKernels

// SOFTMAX on 8-bit tensors, equal element for element to Quantized.softmax. In the reference an
// element's exponential depends only on its difference to the row maximum (one of 256 values), so
// the Q0.31 exponential and its Q12.19 summand are read from tables filled at load with the
// reference's own fixed-point functions; only the reciprocal of each row's sum is computed per row.
// The row sum and the rescaling of each exponential run in C (Sources/CKernels/softmax_q.c, AVX2
// gathers); the rescaling is Gemmlowp.multiply and roundingDivideByPOT for non-negative operands.

extension OptimizedQuantizedKernels {
    public struct Softmax<T: Quantized.Element>: Sendable {
        /// Indexed by rowMax - x: exp of the scaled difference, or 0 where the difference is below
        /// diffMin. The reference skips those elements; a 0 adds nothing to the sum and its probability
        /// rounds to 0, giving the same minimum output as the skipped branch.
        let exponentials: KernelTable<Int32>
        /// The exponential rescaled to the Q12.19 accumulator, as the reference adds it.
        let summands: KernelTable<Int32>
        let depth: Int
        let runner: TileRunner
        let isa: ck_isa
        /// What the C rescaling requires; true for every table the reference's exp produces.
        let exponentialsAreNonNegative: Bool

        /// `isa` selects the row loops' instruction set (tests pass each one the CPU has).
        public init(params: Quantized.SoftmaxParams, depth: Int, threads: Int, isa: ck_isa = ck_active_isa()) {
            self.isa = isa
            let exponentials = KernelTable<Int32>(count: 256) { distance in
                let diff = -Int32(distance)
                guard diff >= params.diffMin else { return 0 }
                let rescaled = Quantized.multiplyByQuantizedMultiplierGreaterThanOne(diff, params.inputMultiplier)
                return Quantized.Gemmlowp.expOnNegativeValues(rescaled, integerBits: Quantized.softmaxScaledDiffIntegerBits)
            }
            self.exponentials = exponentials
            exponentialsAreNonNegative = (0..<256).allSatisfy { exponentials.entries[$0] >= 0 }
            summands = KernelTable(count: 256) { distance in
                Quantized.Gemmlowp.rescale(exponentials.entries[distance], from: 0,
                                           to: Quantized.softmaxAccumulationIntegerBits)
            }
            self.depth = depth
            runner = TileRunner(threads: threads)
        }

        /// `count` must be a whole number of rows of `depth`.
        public func run(input: UnsafePointer<T>, output: UnsafeMutablePointer<T>, count: Int) {
            let rows = depth > 0 ? count / depth : 0
            // Splitting only pays off above tens of thousands of elements.
            let parallel = count >= 32768 ? runner : TileRunner(threads: 1)
            parallel.run(rows) { begin, end in runRows(begin, end, input, output) }
        }

        private func runRows(_ begin: Int, _ end: Int, _ input: UnsafePointer<T>, _ output: UnsafeMutablePointer<T>) {
            let outputBits = Int32(T.bitWidth), isSigned: Int32 = T.isSigned ? 1 : 0
            for row in begin..<end {
                let x = input + row * depth, y = output + row * depth
                var rowMax = x[0]
                for c in 1..<max(depth, 1) { rowMax = max(rowMax, x[c]) }
                let top = Int32(rowMax)
                let sum = ck_softmax_q_sum(x, isSigned, Int32(depth), top, summands.entries, isa)
                let (scale, bitsOverUnit) = Quantized.reciprocal(sum, integerBits: Quantized.softmaxAccumulationIntegerBits)
                let exponent = bitsOverUnit + 31 - outputBits
                guard exponentialsAreNonNegative, scale > 0, exponent >= 0, exponent <= 31 else {
                    // Never reached (exponentials lie in [0, 1], the reciprocal of a real sum in (1/2, 1]).
                    for c in 0..<depth {
                        let probability = Quantized.Gemmlowp.multiply(scale, exponentials.entries[Int(top) - Int(x[c])])
                        let shifted = Quantized.roundingDivideByPOT(probability, exponent) &+ T.minimumValue
                        y[c] = T(clamped: min(max(shifted, T.minimumValue), T.maximumValue))
                    }
                    continue
                }
                ck_softmax_q_output(x, isSigned, Int32(depth), top, exponentials.entries, scale, exponent, y, isa)
            }
        }
    }
}
