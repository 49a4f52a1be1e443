import CKernels

// RESIZE_BILINEAR on int8 tensors, equal element for element to Quantized.resizeBilinear
// (ResizeBilinearInteger). The source rows and columns and their 10-bit fractions are computed once at
// load; per output pixel the four products of fractions are formed once, and the weighted sum runs in
// int32: fractions lie in [-512, 1024), so each term is at most 128 * 1536 * 1536 (about 3.0e8) in
// magnitude and the four terms plus the rounding stay below 2^31, equal to the reference's int64 sum.
// Each output row runs in C (Sources/CKernels/resize_bilinear_q.c), vectorized across channels.

extension OptimizedQuantizedKernels {
    public struct ResizeBilinearInt8: Sendable {
        struct Source: Sendable {
            let lower: Int
            let upper: Int
            /// Source position minus `lower`, 10 fractional bits.
            let fraction: Int32
        }
        let rows: [Source]
        let columns: [Source]
        /// Per output column: the lower and upper source columns' element offsets and the fraction, for C.
        let columnLowerOffsets, columnUpperOffsets, columnFractions: [Int32]
        let isa: ck_isa
        let batches, inputHeight, inputWidth, depth: Int
        let runner: TileRunner

        /// `inputShape` is [N, H, W, C] with H, W >= 1; the output size is >= 1 (checked by the caller).
        public init(inputShape: [Int], outputHeight: Int, outputWidth: Int, alignCorners: Bool, halfPixelCenters: Bool,
                    threads: Int, isa: ck_isa = ck_active_isa()) {
            self.isa = isa
            runner = TileRunner(threads: threads)
            (batches, inputHeight, inputWidth, depth) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
            let one: Int32 = 1 << 10
            func sources(_ inputSize: Int, _ outputSize: Int) -> [Source] {
                let scale = alignCorners && outputSize > 1
                    ? Int32(((1 << 10) * (inputSize - 1) + (outputSize - 1) / 2) / (outputSize - 1))
                    : Int32(((1 << 10) * inputSize + outputSize / 2) / outputSize)
                return (0..<outputSize).map { index in
                    let scaled = halfPixelCenters ? Int32(index) * scale + scale / 2 - (1 << 9) : Int32(index) * scale
                    let lower = max(scaled / one, 0)  // truncating division, as in C++
                    let upper = min((scaled + one - 1) / one, Int32(inputSize - 1))
                    return Source(lower: Int(lower), upper: Int(upper), fraction: scaled - one * lower)
                }
            }
            rows = sources(inputHeight, outputHeight)
            columns = sources(inputWidth, outputWidth)
            let channels = inputShape[3]
            columnLowerOffsets = columns.map { Int32($0.lower * channels) }
            columnUpperOffsets = columns.map { Int32($0.upper * channels) }
            columnFractions = columns.map(\.fraction)
        }

        public func run(_ input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
            let outputRows = batches * rows.count
            // Splitting only pays off above tens of thousands of elements.
            let parallel = outputRows * columns.count * depth >= 65536 ? runner : TileRunner(threads: 1)
            parallel.run(outputRows) { begin, end in runRows(begin, end, input, output) }
        }

        /// Output rows [begin, end) counted across batches.
        private func runRows(_ begin: Int, _ end: Int, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
            columnLowerOffsets.withUnsafeBufferPointer { lower in
                columnUpperOffsets.withUnsafeBufferPointer { upper in
                    columnFractions.withUnsafeBufferPointer { fractions in
                        var out = output + begin * columns.count * depth
                        for outputRow in begin..<end {
                            let (batch, row) = (outputRow / rows.count, rows[outputRow % rows.count])
                            let row0 = input + (batch * inputHeight + row.lower) * inputWidth * depth
                            let row1 = input + (batch * inputHeight + row.upper) * inputWidth * depth
                            ck_resize_bilinear_s8_row(row0, row1, row.fraction, lower.baseAddress, upper.baseAddress,
                                                      fractions.baseAddress, Int32(columns.count), Int32(depth), out, isa)
                            out += columns.count * depth
                        }
                    }
                }
            }
        }
    }
}
