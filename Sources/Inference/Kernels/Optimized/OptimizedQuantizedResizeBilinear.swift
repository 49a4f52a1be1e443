// RESIZE_BILINEAR on int8 tensors, equal element for element to Quantized.resizeBilinear
// (ResizeBilinearInteger). The source rows and columns and their 10-bit fractions are computed once at
// load; per output pixel the four products of fractions are formed once, and the weighted sum runs in
// int32: fractions lie in [-512, 1024), so each term is at most 128 * 1536 * 1536 (about 3.0e8) in
// magnitude and the four terms plus the rounding stay below 2^31, equal to the reference's int64 sum.

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
        let batches, inputHeight, inputWidth, depth: Int
        let runner: TileRunner

        /// `inputShape` is [N, H, W, C] with H, W >= 1; the output size is >= 1 (checked by the caller).
        public init(inputShape: [Int], outputHeight: Int, outputWidth: Int, alignCorners: Bool, halfPixelCenters: Bool,
                    threads: Int) {
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
        }

        public func run(_ input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
            let outputRows = batches * rows.count
            // Splitting only pays off above tens of thousands of elements.
            let parallel = outputRows * columns.count * depth >= 65536 ? runner : TileRunner(threads: 1)
            parallel.run(outputRows) { begin, end in runRows(begin, end, input, output) }
        }

        /// Output rows [begin, end) counted across batches.
        private func runRows(_ begin: Int, _ end: Int, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
            let one: Int32 = 1 << 10
            var out = output + begin * columns.count * depth
            for outputRow in begin..<end {
                let (batch, row) = (outputRow / rows.count, rows[outputRow % rows.count])
                let row0 = input + (batch * inputHeight + row.lower) * inputWidth * depth
                let row1 = input + (batch * inputHeight + row.upper) * inputWidth * depth
                let dy = row.fraction
                for column in columns {
                    let dx = column.fraction
                    let (w00, w10) = ((one - dy) * (one - dx), dy * (one - dx))
                    let (w01, w11) = ((one - dy) * dx, dy * dx)
                    let topLeft = row0 + column.lower * depth, topRight = row0 + column.upper * depth
                    let bottomLeft = row1 + column.lower * depth, bottomRight = row1 + column.upper * depth
                    for c in 0..<depth {
                        let sum = Int32(topLeft[c]) &* w00 &+ Int32(bottomLeft[c]) &* w10
                            &+ Int32(topRight[c]) &* w01 &+ Int32(bottomRight[c]) &* w11
                        let round: Int32 = sum > 0 ? (1 << 19) : -(1 << 19)
                        out[c] = Int8(truncatingIfNeeded: (sum &+ round) / (1 << 20))
                    }
                    out += depth
                }
            }
        }
    }
}
