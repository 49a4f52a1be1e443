import CKernels

extension OperatorDispatch {
    /// 8-bit chains (int8 per-channel, uint8 per-tensor) whose layers all have optimized kernels, on one
    /// image with an undilated depthwise filter; nil otherwise, so the layers run one by one.
    static func fusedQuantizedChainKernel(_ chain: ChainBindings, threads: Int) -> FusedKernelBinder? {
        func layer(_ b: OperatorBinding) -> QuantizedConvolution? {
            guard let x = try? b.input(0), x.type == .int8 || x.type == .uint8, let w = try? b.input(1),
                  let y = try? b.output(0) else { return nil }
            return optimizedQuantizedConvolution(b, x, w, b.inputs.count > 2 ? b.inputs[2] : nil, y, threads: threads)
        }
        var expand: OptimizedQuantizedKernels.Conv2D?, project: OptimizedQuantizedKernels.Conv2D?
        if let b = chain.expand {
            guard case let .regular(conv)? = layer(b) else { return nil }
            expand = conv
        }
        guard case let .depthwise(depthwise)? = layer(chain.depthwise) else { return nil }
        if let b = chain.project {
            guard case let .regular(conv)? = layer(b) else { return nil }
            project = conv
        }
        guard let fused = OptimizedQuantizedKernels.FusedChain(expand: expand, depthwise: depthwise, project: project,
                                                               threads: threads) else { return nil }
        return { x, y, _ in { fused.run(input: x, output: y) } }
    }
}

extension OptimizedQuantizedKernels {
    /// [1x1 expand] -> depthwise -> [1x1 project] on one image, band by band of depthwise output rows
    /// (chain_q.c): the intermediate rows stay in a per-thread buffer of a few tens of KB instead of
    /// going through memory. Bit-identical to running the three layers' kernels one by one.
    final class FusedChain: @unchecked Sendable {
        /// Bytes of intermediate rows (expanded and depthwise) one band may hold: small enough to stay in
        /// L2 (2 MiB per core here) with the layers' weights, large enough that the per-band costs (partial
        /// GEMM tiles, the depthwise kernel's per-call set-up) stay small. benchmarks/speed/chain_q_bench.c
        /// on the person model's chains, fused / unfused over all chains, 1 thread: 96 KB 0.975, 192 KB
        /// 0.957, 384 KB 0.945, 768 KB 0.949; 1- and 2-row bands were slower than unfused (1.15, 1.02).
        static let bandBytes = 384 * 1024

        let layers: (expand: Conv2D?, depthwise: DepthwiseConv2D, project: Conv2D?)  // owners of the weights
        let chain: UnsafeMutablePointer<ck_chain_q>
        let pointwise: UnsafeMutablePointer<ck_pointwise_q>  // [expand, project]
        let requantizations: UnsafeMutablePointer<ck_requant>  // [expand, depthwise, project]
        let outputHeight: Int
        let scratchBytes: Int
        let runner: TileRunner

        /// nil unless the layers fit together as a chain on one image: 1x1 stride-1 unpadded expand and
        /// project around an undilated depthwise convolution, the shapes matching.
        /// `bandRows`: depthwise output rows per band (default: from `bandBytes`).
        init?(expand: Conv2D?, depthwise: DepthwiseConv2D, project: Conv2D?, threads: Int, bandRows: Int? = nil) {
            let d = depthwise.window
            func isPointwise(_ c: Conv2D) -> Bool {
                let w = c.window
                return c.batches == 1 && w.filter_height == 1 && w.filter_width == 1 && w.stride_height == 1
                    && w.stride_width == 1 && w.pad_top == 0 && w.pad_left == 0 && w.input_height == w.output_height
                    && w.input_width == w.output_width
            }
            guard expand != nil || project != nil, depthwise.batches == 1, d.dilation_height == 1,
                  d.dilation_width == 1, d.output_height > 0 else { return nil }
            if let e = expand {
                guard isPointwise(e), e.window.output_height == d.input_height, e.window.output_width == d.input_width,
                      e.outputChannels == Int(d.channels) else { return nil }
            }
            if let p = project {
                guard isPointwise(p), p.window.input_height == d.output_height, p.window.input_width == d.output_width,
                      p.window.channels == d.channels else { return nil }
            }
            layers = (expand, depthwise, project)
            let requantizations = UnsafeMutablePointer<ck_requant>.allocate(capacity: 3)
            requantizations.initialize(repeating: depthwise.requantization.parameters, count: 3)
            let pointwise = UnsafeMutablePointer<ck_pointwise_q>.allocate(capacity: 2)
            for (i, conv) in [expand, project].enumerated() {
                if let conv { requantizations[2 * i] = conv.requantization.parameters }
                pointwise[i] = conv.map {
                    ck_pointwise_q(window: $0.window, packed: UnsafePointer($0.packed), n: Int32($0.outputChannels),
                                   column_terms: UnsafePointer($0.columnTerms), row_sum_factor: $0.rowSumFactor,
                                   rq: requantizations + 2 * i, narrow: $0.usesNarrowRequantization ? 1 : 0)
                } ?? ck_pointwise_q()
            }
            (self.requantizations, self.pointwise) = (requantizations, pointwise)
            let expandedRow = Int(d.input_width * d.channels), depthwiseRow = Int(d.output_width * d.channels)
            let perBand = (expand == nil ? 0 : Int(d.stride_height) * expandedRow) + (project == nil ? 0 : depthwiseRow)
            let rows = bandRows ?? Self.bandBytes / max(1, perBand)
            outputHeight = Int(d.output_height)
            chain = .allocate(capacity: 1)
            chain.initialize(to: ck_chain_q(
                expand: expand == nil ? nil : UnsafePointer(pointwise),
                depthwise: ck_depthwise_q_layer(window: d, filter: UnsafePointer(depthwise.filter), rq: requantizations + 1),
                project: project == nil ? nil : UnsafePointer(pointwise + 1),
                band_rows: Int32(min(max(1, rows), outputHeight))))
            scratchBytes = ck_chain_q_scratch_size(chain)
            runner = TileRunner(threads: threads)
        }

        deinit {
            chain.deallocate()
            pointwise.deallocate()
            requantizations.deallocate()
        }

        var bandRows: Int { Int(chain.pointee.band_rows) }

        func run(input: UnsafeRawPointer, output: UnsafeMutableRawPointer) {
            // One contiguous range of rows per thread: each range recomputes the expanded rows it shares
            // with the range before, so fewer ranges cost less.
            runner.run(outputHeight, rangesPerThread: 1) { [chain, scratchBytes] begin, end in
                if let scratch = ck_chain_q_thread_scratch(scratchBytes) {
                    ck_chain_q_rows(chain, input, output, Int32(begin), Int32(end), scratch)
                    return
                }
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratchBytes) { scratch in
                    ck_chain_q_rows(chain, input, output, Int32(begin), Int32(end), scratch.baseAddress!)
                }
            }
        }
    }
}
