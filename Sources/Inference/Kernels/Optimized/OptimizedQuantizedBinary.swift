// ADD and MUL on 8-bit tensors of one shape, equal element for element to Quantized.add / .mul: an
// output element depends only on the two input values, so all 256 x 256 results are computed at load
// with the reference's element function and each output is one table read.

extension OptimizedQuantizedKernels {
    public struct ElementwiseBinary<T: Quantized.Element>: Sendable {
        /// Indexed by first input byte * 256 + second input byte.
        let results: KernelTable<T>
        let runner: TileRunner

        /// `element(a, b)` is the reference's result for the widened inputs, before the clamp to T.
        public init(threads: Int, element: (Int32, Int32) -> Int32) {
            results = KernelTable(count: 65536) { index in
                let a = T.fromTableIndex(index >> 8).widened, b = T.fromTableIndex(index & 255).widened
                return T(clamped: min(max(element(a, b), T.minimumValue), T.maximumValue))
            }
            runner = TileRunner(threads: threads)
        }

        public static func add(_ params: Quantized.AddParams, threads: Int) -> Self {
            Self(threads: threads) { Quantized.addElement($0, $1, params) }
        }

        public static func mul(_ params: Quantized.MulParams, threads: Int) -> Self {
            Self(threads: threads) { Quantized.mulElement($0, $1, params) }
        }

        public func run(_ first: UnsafePointer<T>, _ second: UnsafePointer<T>, output: UnsafeMutablePointer<T>,
                        count: Int) {
            let table = results.entries
            let parallel = count >= TileRunner.smallestElementwiseSplit ? runner : TileRunner(threads: 1)
            parallel.run(count) { begin, end in
                for i in begin..<end {
                    output[i] = table[first[i].tableIndex << 8 | second[i].tableIndex]
                }
            }
        }
    }
}
