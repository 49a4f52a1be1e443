import CKernels

/// Float CONV_2D and DEPTHWISE_CONV_2D with weights packed at load and the C kernels of CKernels
/// (AVX-512 / AVX2+FMA / portable, chosen at run time). They compute the same sums as the reference
/// kernels in a different rounding (fused multiply-add, vector lanes), so outputs agree to a small
/// relative tolerance, not bit for bit.
public enum OptimizedFloatKernels {
    /// Convolution as a GEMM: A = the input pixels (1x1, stride 1: the input itself) or their im2col rows
    /// (gathered per work unit by ck_conv_f32), W = the filter [outC][fh*fw*inC] packed with its bias.
    public final class Conv2D: @unchecked Sendable {
        let geometry: WindowGeometry
        let inputChannels: Int, outputChannels: Int
        let clamp: ClampRange
        let packed: PackedBuffer
        let readsInputDirectly: Bool
        let runner: TileRunner
        let instructionSet: ck_isa

        /// `filter` is [outC, fh, fw, inC] float32, `bias` [outC] or nil. Below `singleThreadBelow`
        /// multiply-adds the convolution runs on one thread.
        public init(filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, inputChannels: Int,
                    outputChannels: Int, geometry: WindowGeometry, clamp: ClampRange, threads: Int,
                    singleThreadBelow: Int = OptimizedFloatKernels.smallestSplitWork,
                    instructionSet: ck_isa = ck_active_isa()) {
            self.instructionSet = instructionSet
            self.geometry = geometry
            self.inputChannels = inputChannels
            self.outputChannels = outputChannels
            self.clamp = clamp
            let k = geometry.filterHeight * geometry.filterWidth * inputChannels
            packed = PackedBuffer(floatCount: ck_packed_f32_count(Int32(outputChannels), Int32(k)))
            ck_pack_f32(filter, bias, Int32(outputChannels), Int32(k), packed.floats)
            readsInputDirectly = Conv2D.readsInputDirectly(geometry)
            let work = geometry.outputHeight * geometry.outputWidth * outputChannels * k
            runner = TileRunner(threads: work < singleThreadBelow ? 1 : threads)
        }

        /// This convolution (whose own activation must be none) followed by an ADD of `residual`, a tensor
        /// of the output's shape, clamped to the ADD's `clamp`: the GEMM adds the residual in its
        /// epilogue. Bit for bit the two operators run one by one wherever the convolution's output is
        /// finite (run alone it is clamped to ±Float.greatestFiniteMagnitude). 1x1 stride-1 only.
        public func runAddingResidual(input: UnsafePointer<Float>, residual: UnsafePointer<Float>,
                                      output: UnsafeMutablePointer<Float>, clamp: ClampRange) {
            precondition(readsInputDirectly && self.clamp == .unbounded, "a residual fuses only into a plain 1x1 GEMM")
            let pixels = geometry.outputHeight * geometry.outputWidth
            for batch in 0..<geometry.batches {
                pointwise(input + batch * pixels * inputChannels, residual: residual + batch * pixels * outputChannels,
                          output: output + batch * pixels * outputChannels, clamp: clamp)
            }
        }

        /// One image of a 1x1 stride-1 convolution: the GEMM of its pixels, split across threads, plus
        /// `residual` when given.
        private func pointwise(_ image: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                               output: UnsafeMutablePointer<Float>, clamp: ClampRange) {
            let m = geometry.outputHeight * geometry.outputWidth, n = outputChannels, k = inputChannels
            runner.run(Int(ck_gemm_f32_unit_count(Int32(m), Int32(n)))) { begin, end in
                ck_gemm_f32_residual(image, k, Int32(m), Int32(k), packed.floats, Int32(n), output, n, residual, n,
                                     clamp.min, clamp.max, Int32(begin), Int32(end), instructionSet)
            }
        }

        /// A 1x1 stride-1 unpadded convolution's GEMM rows are the input pixels themselves.
        static func readsInputDirectly(_ g: WindowGeometry) -> Bool {
            g.filterHeight == 1 && g.filterWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
                && g.padTop == 0 && g.padLeft == 0 && g.inputHeight == g.outputHeight && g.inputWidth == g.outputWidth
        }

        public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
            let g = geometry
            let m = g.outputHeight * g.outputWidth
            let units = Int(ck_gemm_f32_unit_count(Int32(m), Int32(outputChannels)))
            for batch in 0..<g.batches {
                let image = input + batch * g.inputHeight * g.inputWidth * inputChannels
                let result = output + batch * m * outputChannels
                if readsInputDirectly {
                    pointwise(image, residual: nil, output: result, clamp: clamp)
                    continue
                }
                withUnsafePointer(to: ck_window(geometry: g, channels: inputChannels)) { window in
                    let scratchCount = ck_conv_f32_scratch_count(window)
                    runner.run(units) { begin, end in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                            ck_conv_f32(image, window, packed.floats, Int32(outputChannels), result, clamp.min,
                                        clamp.max, Int32(begin), Int32(end), scratch.baseAddress!, instructionSet)
                        }
                    }
                }
            }
        }
    }

    /// Depthwise convolution with depth multiplier 1 (all SSD models), split across threads by output rows.
    /// Where the C kernel copies the input rows it reads (stride-1 3x3 layers whose input stays in L2, on
    /// AVX2 and AVX-512), two ranges per thread, since each range copies again the two rows it
    /// shares with the range before: measured with `profile` at 2 threads (per-kernel minima, person
    /// fp32), the 19x19 and 10x10 depthwise layers take 0.57-0.78x the time they take with eight.
    public final class DepthwiseConv2D: @unchecked Sendable {
        let geometry: WindowGeometry
        let channels: Int
        let clamp: ClampRange
        let filter: PackedBuffer, bias: PackedBuffer
        let runner: TileRunner
        let instructionSet: ck_isa
        let copiesRows: Bool

        /// `filter` is [1, fh, fw, channels] float32, `bias` [channels] or nil. Below `singleThreadBelow`
        /// multiply-adds the convolution runs on one thread.
        public init(filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, channels: Int,
                    geometry: WindowGeometry, clamp: ClampRange, threads: Int,
                    singleThreadBelow: Int = OptimizedFloatKernels.smallestSplitWork,
                    instructionSet: ck_isa = ck_active_isa()) {
            self.instructionSet = instructionSet
            self.geometry = geometry
            self.channels = channels
            self.clamp = clamp
            let taps = geometry.filterHeight * geometry.filterWidth * channels
            self.filter = PackedBuffer(floatCount: taps)
            self.filter.floats.update(from: filter, count: taps)
            self.bias = PackedBuffer(floatCount: channels)
            if let bias { self.bias.floats.update(from: bias, count: channels) }
            let work = geometry.outputHeight * geometry.outputWidth * taps
            runner = TileRunner(threads: work < singleThreadBelow ? 1 : threads)
            copiesRows = withUnsafePointer(to: ck_window(geometry: geometry, channels: channels)) {
                ck_depthwise_f32_copies_rows($0, instructionSet) != 0
            }
        }

        public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
            let g = geometry
            for batch in 0..<g.batches {
                let image = input + batch * g.inputHeight * g.inputWidth * channels
                let result = output + batch * g.outputHeight * g.outputWidth * channels
                withUnsafePointer(to: ck_window(geometry: g, channels: channels)) { window in
                    let ranges = copiesRows ? 2 : TileRunner.rangesPerThread
                    runner.run(g.outputHeight, rangesPerThread: ranges) { begin, end in
                        ck_depthwise_f32(image, window, filter.floats, bias.floats, result, clamp.min, clamp.max,
                                         Int32(begin), Int32(end), instructionSet)
                    }
                }
            }
        }
    }

    /// Multiply-adds below which an operator runs on one thread: waking the other threads costs several
    /// microseconds, about what ~500 000 multiply-adds take on one AVX-512 core (the 5x5 and smaller
    /// SSD head layers).
    public static let smallestSplitWork = 500_000

    /// The instruction set the kernels use on this CPU.
    public static var instructionSetName: String { String(cString: ck_isa_name(ck_active_isa())) }
}

extension ck_window {
    init(geometry g: WindowGeometry, channels: Int) {
        self.init(input_height: Int32(g.inputHeight), input_width: Int32(g.inputWidth), channels: Int32(channels),
                  output_height: Int32(g.outputHeight), output_width: Int32(g.outputWidth),
                  filter_height: Int32(g.filterHeight), filter_width: Int32(g.filterWidth),
                  stride_height: Int32(g.strideHeight), stride_width: Int32(g.strideWidth),
                  dilation_height: Int32(g.dilationHeight), dilation_width: Int32(g.dilationWidth),
                  pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft))
    }
}
