import CKernels

// SOFTMAX on 8-bit tensors, equal element for element to Quantized.softmax. In the reference an
// element's exponential depends only on its difference to the row maximum (one of 256 values), so
// the Q0.31 exponential and its Q12.19 summand are read from tables filled at load with the
// reference's own fixed-point functions; only the reciprocal of each row's sum is computed per row.
// Rows go to C in chunks (Sources/CKernels/softmax_q.c: row maxima and sums, their reciprocals, then the
// outputs; AVX-512 register permutes or AVX2 gathers); the rescaling is Gemmlowp.multiply and
// roundingDivideByPOT for non-negative operands.

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
        /// Both tables are 0 from this index on (distances beyond diffMin, or exponentials that round to
        /// 0), so a lookup needs only this many entries in registers.
        let tableLength: Int32

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
            let summands = self.summands
            let lastNonZero = (0..<256).last { exponentials.entries[$0] != 0 || summands.entries[$0] != 0 } ?? 0
            tableLength = Int32(lastNonZero + 1)
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

        /// Rows per C call: their maxima, sums and reciprocals fit in a few hundred bytes of stack.
        private static var rowsPerChunk: Int { 64 }

        private func runRows(_ begin: Int, _ end: Int, _ input: UnsafePointer<T>, _ output: UnsafeMutablePointer<T>) {
            let outputBits = Int32(T.bitWidth), isSigned: Int32 = T.isSigned ? 1 : 0
            let chunk = Self.rowsPerChunk
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * chunk) { buffer in
                let tops = buffer.baseAddress!, sums = tops + chunk, scales = sums + chunk, exponents = scales + chunk
                var first = begin
                while first < end {
                    let rows = min(chunk, end - first)
                    let x = input + first * depth, y = output + first * depth
                    ck_softmax_q_rows_sum(x, isSigned, Int32(depth), Int32(rows), summands.entries, tableLength, tops,
                                          sums, isa)
                    ck_softmax_q_reciprocals(sums, Int32(rows), Quantized.softmaxAccumulationIntegerBits, scales, exponents,
                                             isa)
                    var irregularRows: [Int] = []
                    for r in 0..<rows {
                        // exponents[r] holds bitsOverUnit until here.
                        let (scale, exponent) = (scales[r], exponents[r] + 31 - outputBits)
                        if exponentialsAreNonNegative, scale > 0, exponent >= 0, exponent <= 31 {
                            exponents[r] = exponent
                        } else {
                            // Harmless for C; the row is redone below.
                            (scales[r], exponents[r]) = (0, 0)
                            irregularRows.append(r)
                        }
                    }
                    ck_softmax_q_rows_output(x, isSigned, Int32(depth), Int32(rows), tops, exponentials.entries,
                                             tableLength, scales, exponents, y, isa)
                    for r in irregularRows {
                        // Never reached (exponentials lie in [0, 1], the reciprocal of a real sum in (1/2, 1]).
                        let (scale, bitsOverUnit) = Quantized.reciprocal(sums[r], integerBits: Quantized.softmaxAccumulationIntegerBits)
                        let exponent = bitsOverUnit + 31 - outputBits
                        let (xr, yr, top) = (x + r * depth, y + r * depth, Int(tops[r]))
                        for c in 0..<depth {
                            let probability = Quantized.Gemmlowp.multiply(scale, exponentials.entries[top - Int(xr[c])])
                            let shifted = Quantized.roundingDivideByPOT(probability, exponent) &+ T.minimumValue
                            yr[c] = T(clamped: min(max(shifted, T.minimumValue), T.maximumValue))
                        }
                    }
                    first += rows
                }
            }
        }
    }
}
