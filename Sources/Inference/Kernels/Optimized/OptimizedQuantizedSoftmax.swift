// SOFTMAX on 8-bit tensors, equal element for element to Quantized.softmax. In the reference an
// element's exponential depends only on its difference to the row maximum (one of 256 values), so
// the Q0.31 exponential and its Q12.19 summand are read from tables filled at load with the
// reference's own fixed-point functions; only the reciprocal of each row's sum is computed per row.

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

        public init(params: Quantized.SoftmaxParams, depth: Int, threads: Int) {
            let exponentials = KernelTable<Int32>(count: 256) { distance in
                let diff = -Int32(distance)
                guard diff >= params.diffMin else { return 0 }
                let rescaled = Quantized.multiplyByQuantizedMultiplierGreaterThanOne(diff, params.inputMultiplier)
                return Quantized.Gemmlowp.expOnNegativeValues(rescaled, integerBits: Quantized.softmaxScaledDiffIntegerBits)
            }
            self.exponentials = exponentials
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
            let exps = exponentials.entries, sums = summands.entries
            let outputBits = Int32(T.bitWidth)
            for row in begin..<end {
                let x = input + row * depth, y = output + row * depth
                var rowMax = x[0]
                for c in 1..<max(depth, 1) { rowMax = max(rowMax, x[c]) }
                let top = Int(rowMax)
                var sum: Int32 = 0
                for c in 0..<depth { sum = sum &+ sums[top - Int(x[c])] }
                let (scale, bitsOverUnit) = Quantized.reciprocal(sum, integerBits: Quantized.softmaxAccumulationIntegerBits)
                let exponent = bitsOverUnit + 31 - outputBits
                guard scale > 0, exponent >= 0, exponent <= 31 else {
                    // Never reached for a real sum (its reciprocal is in (1/2, 1]); kept general.
                    for c in 0..<depth {
                        let probability = Quantized.Gemmlowp.multiply(scale, exps[top - Int(x[c])])
                        let shifted = Quantized.roundingDivideByPOT(probability, exponent) &+ T.minimumValue
                        y[c] = T(clamped: min(max(shifted, T.minimumValue), T.maximumValue))
                    }
                    continue
                }
                // Gemmlowp.multiply and roundingDivideByPOT written out for non-negative operands (the
                // table holds exponentials in [0, 1]), where their sign-dependent nudges are constants.
                let wideScale = Int64(scale)
                let mask = (Int32(1) << exponent) &- 1, threshold = mask >> 1
                for c in 0..<depth {
                    let probability = Int32(truncatingIfNeeded: (wideScale &* Int64(exps[top - Int(x[c])]) &+ (1 << 30)) >> 31)
                    let rounded = (probability >> exponent) &+ ((probability & mask) > threshold ? 1 : 0)
                    let shifted = rounded &+ T.minimumValue
                    y[c] = T(clamped: min(max(shifted, T.minimumValue), T.maximumValue))
                }
            }
        }
    }
}
