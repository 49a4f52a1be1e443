import CKernels

/// 8-bit CONV_2D and DEPTHWISE_CONV_2D (int8 per-channel, uint8 per-tensor) in C, with the same integer
/// arithmetic as the reference kernels in Kernels/Quantized, so outputs are bit-identical.
public enum OptimizedQuantizedKernels {
    /// Requantization constants kept alive for the C kernels.
    final class Requantization: @unchecked Sendable {
        let significands: UnsafeMutablePointer<Int32>
        let shifts: UnsafeMutablePointer<Int32>
        let bias: UnsafeMutablePointer<Int32>?
        var parameters: ck_requant

        init(params: Quantized.ConvParams, bias: UnsafePointer<Int32>?, channels: Int, isSigned: Bool) {
            significands = .allocate(capacity: channels)
            shifts = .allocate(capacity: channels)
            for (i, m) in params.outputMultipliers.enumerated() {
                significands[i] = m.significand
                shifts[i] = m.shift
            }
            if let bias {
                let copy = UnsafeMutablePointer<Int32>.allocate(capacity: channels)
                copy.update(from: bias, count: channels)
                self.bias = copy
            } else {
                self.bias = nil
            }
            parameters = ck_requant(input_offset: params.inputOffset, output_offset: params.outputOffset,
                                    activation_min: params.activation.minimum,
                                    activation_max: params.activation.maximum, significand: significands,
                                    shift: shifts, is_signed: isSigned ? 1 : 0)
        }

        deinit {
            significands.deallocate()
            shifts.deallocate()
            bias?.deallocate()
        }
    }

    /// Convolution as an int16 GEMM over im2col rows (input offset added, out-of-image taps 0).
    public final class Conv2D: @unchecked Sendable {
        let window: ck_window
        let batches: Int, inputPixels: Int, outputPixels: Int
        let k: Int, rowLength: Int, outputChannels: Int
        let isSigned: Bool
        let packed: UnsafeMutablePointer<Int16>
        let rows: UnsafeMutablePointer<Int16>
        let requantization: Requantization
        let runner: TileRunner

        /// `filter` [outC, fh, fw, inC] 8-bit, `bias` [outC] int32 or nil; `params` from
        /// Quantized.convolutionParams (regular).
        public init(filter: UnsafeRawPointer, bias: UnsafePointer<Int32>?, isSigned: Bool, inputShape: [Int],
                    filterShape: [Int], outputShape: [Int], params: Quantized.ConvParams, threads: Int) {
            window = ck_window(params: params, inputShape: inputShape, filterShape: filterShape, outputShape: outputShape)
            batches = inputShape[0]
            inputPixels = inputShape[1] * inputShape[2] * inputShape[3]
            outputPixels = outputShape[1] * outputShape[2]
            k = filterShape[1] * filterShape[2] * filterShape[3]
            rowLength = (k + 1) / 2 * 2
            outputChannels = outputShape[3]
            self.isSigned = isSigned
            let count = ck_packed_q_count(Int32(outputChannels), Int32(k))
            packed = .allocate(capacity: count)
            ck_pack_q(filter, isSigned ? 1 : 0, params.filterOffset, Int32(outputChannels), Int32(k), packed)
            rows = .allocate(capacity: max(1, outputPixels * rowLength))
            requantization = Requantization(params: params, bias: bias, channels: outputChannels, isSigned: isSigned)
            runner = TileRunner(threads: threads)
        }

        deinit {
            packed.deallocate()
            rows.deallocate()
        }

        public func run(input: UnsafeRawPointer, output: UnsafeMutableRawPointer) {
            let m = outputPixels, n = outputChannels
            let gemmTiles = Int(ck_gemm_f32_tile_count(Int32(m), Int32(n)))
            let rowValues = Int(window.output_width) * rowLength
            withUnsafePointer(to: window) { window in
                withUnsafePointer(to: requantization.parameters) { rq in
                    for batch in 0..<batches {
                        let image = input + batch * inputPixels
                        let result = output + batch * m * n
                        runner.run(Int(window.pointee.output_height)) { begin, end in
                            ck_rows_q(image, isSigned ? 1 : 0, rq.pointee.input_offset, window, Int32(begin), Int32(end),
                                      Int32(rowLength), rows + begin * rowValues)
                        }
                        runner.run(gemmTiles) { begin, end in
                            ck_gemm_q(rows, rowLength, Int32(m), Int32(k), packed, Int32(n), requantization.bias, rq,
                                      result, n, Int32(begin), Int32(end))
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
        let filter: UnsafeRawPointer
        let filterOffset: Int32
        let requantization: Requantization
        let runner: TileRunner

        /// `filter` [1, fh, fw, C] stays where the model keeps it (constants outlive the interpreter's kernels).
        public init(filter: UnsafeRawPointer, bias: UnsafePointer<Int32>?, isSigned: Bool, inputShape: [Int],
                    filterShape: [Int], outputShape: [Int], params: Quantized.ConvParams, threads: Int) {
            window = ck_window(params: params, inputShape: inputShape, filterShape: filterShape, outputShape: outputShape)
            batches = inputShape[0]
            inputImage = inputShape[1] * inputShape[2] * inputShape[3]
            outputImage = outputShape[1] * outputShape[2] * outputShape[3]
            self.filter = filter
            filterOffset = params.filterOffset
            requantization = Requantization(params: params, bias: bias, channels: outputShape[3], isSigned: isSigned)
            runner = TileRunner(threads: threads)
        }

        public func run(input: UnsafeRawPointer, output: UnsafeMutableRawPointer) {
            withUnsafePointer(to: window) { window in
                withUnsafePointer(to: requantization.parameters) { rq in
                    for batch in 0..<batches {
                        let image = input + batch * inputImage
                        let result = output + batch * outputImage
                        runner.run(Int(window.pointee.output_height)) { begin, end in
                            ck_depthwise_q(image, window, filter, filterOffset, requantization.bias, rq, result,
                                           Int32(begin), Int32(end))
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
