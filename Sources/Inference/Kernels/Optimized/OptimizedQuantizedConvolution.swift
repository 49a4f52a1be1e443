import CKernels

/// 8-bit CONV_2D and DEPTHWISE_CONV_2D (int8 per-channel, uint8 per-tensor) in C, with the same integer
/// arithmetic as the reference kernels in Kernels/Quantized, so outputs are bit-identical.
public enum OptimizedQuantizedKernels {
    /// Channels rounded up to the 16 lanes the vector requantization reads at once.
    static func paddedChannels(_ channels: Int) -> Int { (channels + 15) / 16 * 16 }

    /// Requantization constants kept alive for the C kernels, padded to a multiple of 16 channels.
    final class Requantization: @unchecked Sendable {
        let significands: UnsafeMutablePointer<Int32>
        let shifts: UnsafeMutablePointer<Int32>
        var parameters: ck_requant

        init(params: Quantized.ConvParams, channels: Int, isSigned: Bool) {
            let padded = paddedChannels(channels)
            significands = .allocate(capacity: padded)
            shifts = .allocate(capacity: padded)
            significands.initialize(repeating: 0, count: padded)
            shifts.initialize(repeating: 0, count: padded)
            for (i, m) in params.outputMultipliers.prefix(channels).enumerated() {
                significands[i] = m.significand
                shifts[i] = m.shift
            }
            parameters = ck_requant(input_offset: params.inputOffset, output_offset: params.outputOffset,
                                    activation_min: params.activation.minimum,
                                    activation_max: params.activation.maximum, significand: significands,
                                    shift: shifts, is_signed: isSigned ? 1 : 0)
        }

        deinit {
            significands.deallocate()
            shifts.deallocate()
        }
    }

    /// Convolution as a uint8 x int8 GEMM over im2col rows (see gemm_q.c for the offset algebra), one
    /// pass per image: each work unit gathers its own rows (or reads uint8 1x1 inputs in place).
    public final class Conv2D: @unchecked Sendable {
        let window: ck_window
        let batches: Int, inputPixels: Int, outputPixels: Int
        let outputChannels: Int
        let packed: UnsafeMutablePointer<Int8>
        let columnTerms: UnsafeMutablePointer<Int32>
        let rowSumFactor: Int32
        let requantization: Requantization
        /// Whether the VNNI kernel may use its narrow requantization here (ck_conv_q_narrow, checked once).
        let usesNarrowRequantization: Bool
        /// Channels whose output is the same for every reachable accumulator, given the multiplier 0
        /// (ck_conv_q_fold_constant_channels).
        let constantChannels: Int
        let runner: TileRunner

        /// `filter` [outC, fh, fw, inC] 8-bit, `bias` [outC] int32 or nil; `params` from
        /// Quantized.convolutionParams (regular). Nil when the input zero point is not a byte of the
        /// element type (the GEMM pads with it), so the reference kernel runs instead.
        public init?(filter: UnsafeRawPointer, bias: UnsafePointer<Int32>?, isSigned: Bool, inputShape: [Int],
                     filterShape: [Int], outputShape: [Int], params: Quantized.ConvParams, threads: Int) {
            guard (0...255).contains(ck_gemm_q_padding(isSigned ? 1 : 0, params.inputOffset)) else { return nil }
            window = ck_window(params: params, inputShape: inputShape, filterShape: filterShape, outputShape: outputShape)
            batches = inputShape[0]
            inputPixels = inputShape[1] * inputShape[2] * inputShape[3]
            outputPixels = outputShape[1] * outputShape[2]
            let k = filterShape[1] * filterShape[2] * filterShape[3]
            outputChannels = outputShape[3]
            packed = .allocate(capacity: ck_gemm_q_packed_count(Int32(outputChannels), Int32(k)))
            columnTerms = .allocate(capacity: paddedChannels(outputChannels))
            ck_gemm_q_pack(filter, isSigned ? 1 : 0, params.inputOffset, params.filterOffset, bias,
                           Int32(outputChannels), Int32(k), packed, columnTerms)
            rowSumFactor = ck_gemm_q_row_sum_factor(isSigned ? 1 : 0, params.filterOffset)
            requantization = Requantization(params: params, channels: outputChannels, isSigned: isSigned)
            (constantChannels, usesNarrowRequantization) = withUnsafePointer(to: window) {
                [requantization, columnTerms, rowSumFactor, outputChannels] window in
                withUnsafePointer(to: requantization.parameters) { rq in
                    let n = Int32(outputChannels)
                    let folded = ck_conv_q_fold_constant_channels(window, n, columnTerms, rowSumFactor, rq,
                                                                  requantization.significands, requantization.shifts)
                    return (Int(folded), ck_conv_q_narrow(window, n, columnTerms, rowSumFactor, rq) != 0)
                }
            }
            runner = TileRunner(threads: threads)
        }

        deinit {
            packed.deallocate()
            columnTerms.deallocate()
        }

        public func run(input: UnsafeRawPointer, output: UnsafeMutableRawPointer) {
            let n = outputChannels
            withUnsafePointer(to: window) { window in
                withUnsafePointer(to: requantization.parameters) { rq in
                    let tiles = Int(ck_conv_q_tile_count(window, Int32(n)))
                    let scratchBytes = ck_conv_q_scratch_size(window)
                    for batch in 0..<batches {
                        let image = input + batch * inputPixels
                        let result = output + batch * outputPixels * n
                        runner.run(tiles) { begin, end in
                            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratchBytes) { scratch in
                                ck_conv_q(image, window, packed, Int32(n), columnTerms, rowSumFactor, rq,
                                          usesNarrowRequantization ? 1 : 0, result, Int32(begin), Int32(end),
                                          scratch.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Depthwise convolution with multiplier 1, split by output rows.
    public final class DepthwiseConv2D: @unchecked Sendable {
        let window: ck_window
        let batches: Int, inputImage: Int, outputImage: Int
        let filter: UnsafeMutablePointer<Int32>
        let requantization: Requantization
        let runner: TileRunner

        /// `filter` [1, fh, fw, C] is widened with its offset, and packed with the bias, once here.
        public init(filter: UnsafeRawPointer, bias: UnsafePointer<Int32>?, isSigned: Bool, inputShape: [Int],
                    filterShape: [Int], outputShape: [Int], params: Quantized.ConvParams, threads: Int) {
            window = ck_window(params: params, inputShape: inputShape, filterShape: filterShape, outputShape: outputShape)
            batches = inputShape[0]
            inputImage = inputShape[1] * inputShape[2] * inputShape[3]
            outputImage = outputShape[1] * outputShape[2] * outputShape[3]
            let channels = outputShape[3], taps = filterShape[1] * filterShape[2]
            let packed = UnsafeMutablePointer<Int32>.allocate(capacity: ck_depthwise_q_packed_count(Int32(taps), Int32(channels)))
            ck_depthwise_q_pack(filter, isSigned ? 1 : 0, params.filterOffset, params.inputOffset, bias, Int32(taps),
                                Int32(channels), packed)
            let requantization = Requantization(params: params, channels: channels, isSigned: isSigned)
            withUnsafePointer(to: requantization.parameters) { rq in
                _ = ck_depthwise_q_fold_constant_channels(packed, Int32(taps), Int32(channels), rq,
                                                          requantization.significands, requantization.shifts)
                _ = ck_depthwise_q_mark_narrow(packed, Int32(taps), Int32(channels), rq)
            }
            self.filter = packed
            self.requantization = requantization
            runner = TileRunner(threads: threads)
        }

        deinit { filter.deallocate() }

        public func run(input: UnsafeRawPointer, output: UnsafeMutableRawPointer) {
            withUnsafePointer(to: window) { window in
                withUnsafePointer(to: requantization.parameters) { rq in
                    for batch in 0..<batches {
                        let image = input + batch * inputImage
                        let result = output + batch * outputImage
                        runner.run(Int(window.pointee.output_height)) { begin, end in
                            ck_depthwise_q(image, window, filter, rq, result, Int32(begin), Int32(end))
                        }
                    }
                }
            }
        }
    }
}

extension ck_window {
    init(params p: Quantized.ConvParams, inputShape x: [Int], filterShape w: [Int], outputShape y: [Int]) {
        self.init(input_height: Int32(x[1]), input_width: Int32(x[2]), channels: Int32(x[3]),
                  output_height: Int32(y[1]), output_width: Int32(y[2]),
                  filter_height: Int32(w[1]), filter_width: Int32(w[2]),
                  stride_height: Int32(p.strideHeight), stride_width: Int32(p.strideWidth),
                  dilation_height: Int32(p.dilationHeight), dilation_width: Int32(p.dilationWidth),
                  pad_top: Int32(p.paddingHeight), pad_left: Int32(p.paddingWidth))
    }
}
