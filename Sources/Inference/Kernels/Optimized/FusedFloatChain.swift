import CKernels

extension OperatorDispatch {
    /// A fused kernel for a float32 chain whose stages all have optimized kernels, one image (batch 1) and
    /// a 1x1 project that reads its input pixels directly; else nil, and the operators run one by one.
    static func fusedFloatChainKernel(_ chain: ChainBindings, threads: Int) -> FusedKernelBinder? {
        guard let depthwise = try? optimizedFloatDepthwise(chain.depthwise, threads: 1),
              depthwise.geometry.batches == 1 else { return nil }
        var expand: OptimizedFloatKernels.Conv2D?, project: OptimizedFloatKernels.Conv2D?
        if let b = chain.expand {
            guard let conv = try? optimizedFloatConv2D(b, threads: 1), conv.geometry.batches == 1 else { return nil }
            expand = conv
        }
        if let b = chain.project {
            guard let conv = try? optimizedFloatConv2D(b, threads: 1), conv.readsInputDirectly,
                  conv.geometry.batches == 1 else { return nil }
            project = conv
        }
        var residualClamp: ClampRange?
        if let add = chain.residualAdd {
            guard let clamp = residualAddClamp(add) else { return nil }
            residualClamp = clamp
        }
        guard let fused = OptimizedFloatKernels.FusedChain(expand: expand, depthwise: depthwise, project: project,
                                                           residualClamp: residualClamp, threads: threads)
        else { return nil }
        return { x, y, residual in
            let r = residual.map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }
            return {
                fused.run(input: x.assumingMemoryBound(to: Float.self), output: y.assumingMemoryBound(to: Float.self),
                          residual: r)
            }
        }
    }
}

extension OptimizedFloatKernels {
    /// [expand] → depthwise → [1x1 project], computed band by band of depthwise output rows so the
    /// expanded and depthwise tensors stay in L2 instead of going to memory and back (the early person
    /// layers' are 2-9 MB each). Each stage runs the same C kernel on the same rows as the unfused
    /// operator, in the same order per output, so the results are bit for bit the unfused ones:
    /// - expand: the convolution of just the rows the band's depthwise windows need and the band buffer
    ///   does not hold yet: for a 1x1 stride-1 expand the GEMM of those pixels, for another (the 3x3
    ///   stride-2 first layer before the first depthwise) ck_conv_f32_pixels, the same windowed GEMM;
    /// - depthwise: ck_depthwise_f32 with the operator's own window, its input pointer moved so that
    ///   image row r lands on the band buffer's copy of row r (it reads only the rows the band needs);
    /// - project: the 1x1 GEMM of the band's depthwise pixels, straight into the chain's output.
    /// Threads take contiguous ranges of output rows (`rangesPerThread`). A thread keeps the expanded
    /// rows a range shares with its next one. A range whose rows another thread started, or one taken
    /// from another thread's end, recomputes them (2 rows at stride 1, 1 at stride 2).
    public final class FusedChain: @unchecked Sendable {
        let expand: Conv2D?
        let depthwise: DepthwiseConv2D
        let project: Conv2D?
        /// Set when the chain ends with a residual ADD (`ResidualAdd`), the ADD's clamp: the project GEMM
        /// adds the residual in its epilogue.
        let residualClamp: ClampRange?
        /// Depthwise output rows per band.
        let bandRows: Int
        /// Expanded rows the band buffer holds: a band's worth plus room (up to a band, within about 1 MiB)
        /// to append the next band before the rows they share have to move to the front.
        let heldRows: Int
        /// Contiguous ranges of output rows. Each thread runs its own ranges in order on its part of the
        /// scratch block, carrying the expanded rows one range shares with the next.
        let parts: Int
        /// Tests set it to run the ranges on this thread in a given order, as (range, thread slot), in
        /// place of the pool: the orders stealing can produce, without the timing that produces them.
        var orderForTesting: [(part: Int, slot: Int)]?
        let runner: TileRunner
        let scratch: FloatChainScratch

        /// nil when the stages do not fit together (shapes, a non-direct 1x1, no stage around the
        /// depthwise) or when the tensors fusing keeps in cache total under `fusedBytesAtLeast` (see
        /// `smallestFusedBytes`), unless it is a depthwise → project pair split across threads (see
        /// `splitPairsFuse`). `bandPixels`: depthwise output pixels per band, at least (whole rows).
        /// `residualClamp`: the chain ends with a residual ADD clamped so (the project must have no activation).
        public init?(expand: Conv2D?, depthwise: DepthwiseConv2D, project: Conv2D?, residualClamp: ClampRange? = nil,
                     threads: Int,
                     fusedBytesAtLeast: Int = FusedChain.smallestFusedBytes,
                     bandPixels: Int = FusedChain.defaultBandPixels, rangesPerThread: Int = FusedChain.rangesPerThread,
                     singleThreadBelow: Int = OptimizedFloatKernels.smallestSplitWork,
                     scratch: FloatChainScratch = .shared) {
            let g = depthwise.geometry
            guard expand != nil || project != nil, g.batches == 1, g.outputHeight > 0, g.outputWidth > 0 else { return nil }
            if let e = expand {
                guard e.geometry.batches == 1, e.outputChannels == depthwise.channels,
                      e.geometry.outputHeight == g.inputHeight, e.geometry.outputWidth == g.inputWidth else { return nil }
            }
            if let p = project {
                guard p.readsInputDirectly, p.geometry.batches == 1, p.inputChannels == depthwise.channels,
                      p.geometry.inputHeight == g.outputHeight, p.geometry.inputWidth == g.outputWidth else { return nil }
            }
            if residualClamp != nil {
                guard let p = project, p.clamp == .unbounded else { return nil }
            }
            let expandDepth = expand.map { $0.geometry.filterHeight * $0.geometry.filterWidth * $0.inputChannels } ?? 0
            let work = g.outputHeight * g.outputWidth * depthwise.channels
                * (g.filterHeight * g.filterWidth + expandDepth + (project?.outputChannels ?? 0))
            let runner = TileRunner(threads: work < singleThreadBelow ? 1 : threads)
            let intermediates = (expand == nil ? 0 : g.inputHeight * g.inputWidth)
                + (project == nil ? 0 : g.outputHeight * g.outputWidth)
            guard intermediates * depthwise.channels * MemoryLayout<Float>.size >= fusedBytesAtLeast
                || (FusedChain.splitPairsFuse && expand == nil && runner.threads > 1) else { return nil }
            self.runner = runner
            self.expand = expand
            self.depthwise = depthwise
            self.project = project
            self.residualClamp = residualClamp
            self.scratch = scratch
            bandRows = min(g.outputHeight, max(1, (bandPixels + g.outputWidth - 1) / g.outputWidth))
            // One band of slack halves how often the shared rows move, within about 1 MiB.
            let inputRows = FusedChain.inputRows(bandRows: bandRows, g)
            let rowBytes = g.inputWidth * depthwise.channels * MemoryLayout<Float>.size
            heldRows = inputRows + max(0, min(bandRows * g.strideHeight, (1 << 20) / rowBytes - inputRows))
            let perThread = expand == nil ? 1 : max(1, rangesPerThread)
            parts = runner.threads == 1 ? 1 : min(g.outputHeight, runner.threads * perThread)
            scratch.reserve(floatCount: scratchFloats)
        }

        /// Chains whose intermediate tensors (the expanded input of the depthwise, its output) total less
        /// run unfused: these stay in the 2 MiB L2 between operators anyway, and in bands their GEMMs
        /// are split into pieces too short to pay for themselves. Measured with
        /// benchmarks/speed/chain_ab.py on the person model (fused / unfused time, 1 thread; 2 threads
        /// alike or worse): the 150x150 and 75x75 chains 0.75-0.95 (intermediates 2.9-10.8 MB); the
        /// 38x38 expand block (2.2 MB) 0.95-1.0; the 19x19 (0.8-1.4 MB) 0.95-1.1; the 10x10
        /// (0.4-0.5 MB) 1.1-1.16, at 2 threads 1.2-1.3.
        public static let smallestFusedBytes = 2 << 20

        /// Depthwise → project pairs (no expand, so no rows recomputed) below that size fuse all the same
        /// when they run on several threads: one hand-off to the pool instead of two, and each thread's
        /// depthwise rows go straight into its own GEMM instead of through memory. Per-kernel minima of
        /// `profile` (person fp32, 8 runs each, pairs fused or not): at 2 threads the 19x19 and 10x10
        /// pairs, residual ADDs included, 0.86-0.97 of their operators run one by one (sum 1.74 vs 1.80
        /// ms); at 1 thread 1.02-1.07, so one thread keeps them apart. One or two ranges per thread came out
        /// alike (the pairs' sums 1.67 / 1.65 ms), four worse (1.82 ms): pairs keep one range per thread.
        static let splitPairsFuse = true

        /// Bands of at least 300 pixels: each band's GEMMs then run a dozen or more 24-row tiles, enough
        /// to amortize a call and the weights' trip from L2, while a band's buffers stay inside L2 (the
        /// held rows about 1 MiB at most). Measured with benchmarks/speed/chain_ab.py
        /// (fused / unfused time of the six fused person chains together, 1 thread, 5 rounds): 300
        /// pixels 0.85-0.87, 150 pixels 0.90, 450 pixels 0.94, 64 KB bands (1-3 rows) 0.93-0.98.
        public static let defaultBandPixels = 300
        /// Ranges per thread of a chain with an expand. A thread runs its own ranges in order on one band
        /// buffer, so only a range taken from another thread's end recomputes the expanded rows it shares
        /// with the range before it. Several ranges let a thread the host slows down (a busy sibling
        /// hyperthread, say) hand a quarter of its rows to the other, as XNNPACK's small tiles do.
        /// Measured on the person model at 2 threads, alternating with one range per thread inside one
        /// process, 150 inferences each:
        /// - calm runs: 0.994-1.008;
        /// - loaded spells: 0.93-0.98;
        /// - 3 or 6 per thread came out alike.
        /// Separate processes alternated are too noisy to tell: paired median 0.98, medians 1.03-1.05,
        /// minima 0.97-0.99.
        /// Depthwise → project pairs keep one range per thread: shorter ranges made their band GEMMs too
        /// short (4 per thread: the pairs' sum 1.82 vs 1.65 ms, `splitPairsFuse`).
        public static let rangesPerThread = 4

        /// Input rows of the depthwise's window that `bandRows` output rows read at most.
        static func inputRows(bandRows: Int, _ g: WindowGeometry) -> Int {
            (bandRows - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1
        }

        var expandedRowFloats: Int { depthwise.geometry.inputWidth * depthwise.channels }
        var depthwiseRowFloats: Int { depthwise.geometry.outputWidth * depthwise.channels }

        /// Floats of scratch a run borrows: one thread's part for each thread.
        var scratchFloats: Int { runner.threads * partFloats }

        /// Floats of scratch one thread uses, rounded to whole cache lines.
        var partFloats: Int {
            let expanded = expand == nil ? 0 : heldRows * expandedRowFloats
            let depthwiseBand = project == nil ? 0 : bandRows * depthwiseRowFloats
            return (expanded + 15) / 16 * 16 + (depthwiseBand + 15) / 16 * 16
        }

        /// `residual`: the ADD's other input, of the output's shape, when the chain ends with one.
        public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        residual: UnsafePointer<Float>? = nil) {
            precondition((residual == nil) == (residualClamp == nil), "a residual exactly when the chain ends with an ADD")
            let rows = depthwise.geometry.outputHeight
            let stride = partFloats
            let threads = runner.threads, parts = self.parts
            scratch.withBlock(floatCount: scratchFloats) { block in
                withUnsafePointer(to: ck_window(geometry: depthwise.geometry, channels: depthwise.channels)) { window in
                    withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: threads) { held in
                        held.initialize(repeating: 0..<0)
                        func runPart(_ part: Int, slot: Int) {
                            runRows(part * rows / parts, (part + 1) * rows / parts, input: input, output: output,
                                    residual: residual, window: window, scratch: block + slot * stride,
                                    held: &held[slot])
                        }
                        if let order = orderForTesting {
                            for (part, slot) in order { runPart(part, slot: slot) }
                            return
                        }
                        // One unit per range (rangeCount == parts), so a range's index is its unit.
                        runner.run(parts, rangesPerThread: (parts + threads - 1) / threads) { begin, end, slot in
                            for part in begin..<end { runPart(part, slot: slot) }
                        }
                    }
                }
            }
        }

        /// Depthwise output rows [first, last) and everything they need, band by band. `held`: the image rows
        /// of the expanded rows the thread's band buffer holds (from its last range), updated.
        private func runRows(_ first: Int, _ last: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                             residual: UnsafePointer<Float>?, window: UnsafePointer<ck_window>,
                             scratch: UnsafeMutablePointer<Float>, held: inout Range<Int>) {
            let g = depthwise.geometry
            let expandedRow = expandedRowFloats, depthwiseRow = depthwiseRowFloats
            let expanded = scratch
            let depthwiseBand = scratch + (expand == nil ? 0 : (heldRows * expandedRow + 15) / 16 * 16)
            // The band buffer holds expanded rows [heldFirst, heldEnd) of the image, row heldFirst at its start.
            var (heldFirst, heldEnd) = (held.lowerBound, held.upperBound)
            defer { held = heldFirst..<heldEnd }
            var band = first
            while band < last {
                let bandEnd = min(band + bandRows, last)
                var depthwiseInput = input
                if let expand {
                    let needFirst = max(0, band * g.strideHeight - g.padTop)
                    let needEnd = max(needFirst, min(g.inputHeight, (bandEnd - 1) * g.strideHeight - g.padTop
                                                     + (g.filterHeight - 1) * g.dilationHeight + 1))
                    // Nothing to reuse: the first band, or a range taken from another thread's end.
                    if needFirst >= heldEnd || needFirst < heldFirst {
                        (heldFirst, heldEnd) = (needFirst, needFirst)
                    } else if needEnd - heldFirst > heldRows {
                        // The rows this band shares with the last one move to the front.
                        UnsafeMutableRawPointer(expanded).copyMemory(  // memmove: the regions may overlap
                            from: expanded + (needFirst - heldFirst) * expandedRow,
                            byteCount: (heldEnd - needFirst) * expandedRow * MemoryLayout<Float>.size)
                        heldFirst = needFirst
                    }
                    if needEnd > heldEnd {
                        let c = expanded + (heldEnd - heldFirst) * expandedRow
                        if expand.readsInputDirectly {
                            gemm(expand, a: input + heldEnd * g.inputWidth * expand.inputChannels,
                                 m: (needEnd - heldEnd) * g.inputWidth, c: c)
                        } else {
                            convolve(expand, input: input, pixels: heldEnd * g.inputWidth..<needEnd * g.inputWidth, c: c)
                        }
                        heldEnd = needEnd
                    }
                    depthwiseInput = UnsafePointer(expanded - heldFirst * expandedRow)
                }
                let depthwiseOutput = project == nil ? output : depthwiseBand - band * depthwiseRow
                ck_depthwise_f32(depthwiseInput, window, depthwise.filter.floats, depthwise.bias.floats, depthwiseOutput,
                                 depthwise.clamp.min, depthwise.clamp.max, Int32(band), Int32(bandEnd),
                                 depthwise.instructionSet)
                if let project {
                    let offset = band * g.outputWidth * project.outputChannels
                    gemm(project, a: depthwiseBand, m: (bandEnd - band) * g.outputWidth, c: output + offset,
                         residual: residual.map { $0 + offset })
                }
                band = bandEnd
            }
        }

        /// Output pixels `pixels` of a windowed convolution (all its channels) into c, on this thread.
        private func convolve(_ conv: Conv2D, input: UnsafePointer<Float>, pixels: Range<Int>,
                              c: UnsafeMutablePointer<Float>) {
            withUnsafePointer(to: ck_window(geometry: conv.geometry, channels: conv.inputChannels)) { window in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: ck_conv_f32_scratch_count(window)) { scratch in
                    ck_conv_f32_pixels(input, window, conv.packed.floats, Int32(conv.outputChannels), c, conv.clamp.min,
                                       conv.clamp.max, Int32(pixels.lowerBound), Int32(pixels.upperBound),
                                       scratch.baseAddress!, conv.instructionSet)
                }
            }
        }

        /// All of a 1x1 convolution's GEMM for `m` pixels (rows of A and C packed: lda = k, ldc = n), plus
        /// the residual's rows when given.
        private func gemm(_ conv: Conv2D, a: UnsafePointer<Float>, m: Int, c: UnsafeMutablePointer<Float>,
                          residual: UnsafePointer<Float>? = nil) {
            let n = conv.outputChannels, k = conv.inputChannels
            let units = ck_gemm_f32_unit_count(Int32(m), Int32(n))
            let clamp = residual == nil ? conv.clamp : residualClamp!
            ck_gemm_f32_residual(a, k, Int32(m), Int32(k), conv.packed.floats, Int32(n), c, n, residual, n, clamp.min,
                                 clamp.max, 0, units, conv.instructionSet)
        }
    }
}
