// Chooses the optimized kernels for the non-convolution layers of 8-bit models. Each one is equal
// element for element to the reference kernel it replaces; anything they do not cover (broadcasting,
// per-channel quantization, parameters the reference rejects) returns nil so the reference kernel runs
// and reports any problem with the model.
import TFLiteModel

extension OperatorDispatch {
    static func optimizedLayerKernel(for b: OperatorBinding, threads: Int) throws -> Kernel? {
        guard let x = b.inputs.first ?? nil, let y = b.outputs.first else { return nil }
        switch b.name {
        case "SOFTMAX": return optimizedSoftmax(b, x, y, threads: threads)
        case "ADD", "MUL": return optimizedElementwiseBinary(b, x, y, threads: threads)
        case "QUANTIZE": return optimizedQuantize(x, y, threads: threads)
        case "DEQUANTIZE": return optimizedDequantize(x, y)
        case "CONCATENATION": return optimizedConcatenation(b, y)
        case "PAD": return try optimizedPad(b, x, y)
        case "RESIZE_BILINEAR": return optimizedResizeBilinear(b, x, y, threads: threads)
        default: return nil
        }
    }

    private static func is8Bit(_ t: BoundTensor) -> Bool { t.type == .int8 || t.type == .uint8 }

    /// A per-tensor quantization the reference kernels accept, else nil.
    private static func perTensorQuantization(_ t: BoundTensor) -> Quantized.TensorQuantization? {
        guard let q = t.quantization, q.isAffine, q.scales.count == 1, q.zeroPoints.count == 1,
              q.scales[0].isFinite, q.scales[0] > 0,
              let zeroPoint = Int32(exactly: q.zeroPoints[0]) else { return nil }
        return Quantized.TensorQuantization(scale: q.scales[0], zeroPoint: zeroPoint)
    }

    /// The fused activations whose meaning is plain clamping (the others stay with the reference).
    private static func clampingActivation(_ a: TFLiteModel.Activation) -> Quantized.FusedActivation? {
        switch a {
        case .none: return Quantized.FusedActivation.none
        case .relu: return .relu
        case .relu6: return .relu6
        case .reluN1To1: return .reluN1To1
        case .tanh, .signBit: return nil
        }
    }

    private static func optimizedSoftmax(_ b: OperatorBinding, _ x: BoundTensor, _ y: BoundTensor,
                                         threads: Int) -> Kernel? {
        guard case let .softmax(beta) = b.op.builtinOptions, is8Bit(x), y.type == x.type,
              let xq = perTensorQuantization(x), let yq = perTensorQuantization(y),
              let depth = x.shape.last, depth > 0, x.elementCount % depth == 0, y.elementCount == x.elementCount
        else { return nil }
        let count = x.elementCount
        func make<T: Quantized.Element>(_: T.Type) -> Kernel? {
            guard let params = try? Quantized.softmaxParams(elementType: T.self, beta: beta, input: xq, output: yq)
            else { return nil }
            let softmax = OptimizedQuantizedKernels.Softmax<T>(params: params, depth: depth, threads: threads)
            let (input, output) = (x.data.assumingMemoryBound(to: T.self), y.data.assumingMemoryBound(to: T.self))
            return { softmax.run(input: input, output: output, count: count) }
        }
        return x.type == .int8 ? make(Int8.self) : make(UInt8.self)
    }

    /// Same-shape inputs only; broadcasting stays with the reference.
    private static func optimizedElementwiseBinary(_ b: OperatorBinding, _ x: BoundTensor, _ y: BoundTensor,
                                                   threads: Int) -> Kernel? {
        guard b.inputs.count == 2, let second = b.inputs[1], is8Bit(x), second.type == x.type, y.type == x.type,
              x.shape == y.shape, second.shape == y.shape,
              let xq = perTensorQuantization(x), let sq = perTensorQuantization(second),
              let yq = perTensorQuantization(y) else { return nil }
        let activation: TFLiteModel.Activation
        switch b.op.builtinOptions {
        case let .add(a) where b.name == "ADD": activation = a
        case let .mul(a) where b.name == "MUL": activation = a
        default: return nil
        }
        guard let fused = clampingActivation(activation) else { return nil }
        let count = y.elementCount
        func make<T: Quantized.Element>(_: T.Type) -> Kernel? {
            let kernel: OptimizedQuantizedKernels.ElementwiseBinary<T>
            if b.name == "ADD" {
                guard let params = try? Quantized.addParams(elementType: T.self, input1: xq, input2: sq, output: yq,
                                                            activation: fused) else { return nil }
                kernel = .add(params, threads: threads)
            } else {
                guard let params = try? Quantized.mulParams(elementType: T.self, input1: xq, input2: sq, output: yq,
                                                            activation: fused) else { return nil }
                kernel = .mul(params, threads: threads)
            }
            let (first, other) = (x.data.assumingMemoryBound(to: T.self), second.data.assumingMemoryBound(to: T.self))
            let output = y.data.assumingMemoryBound(to: T.self)
            return { kernel.run(first, other, output: output, count: count) }
        }
        return x.type == .int8 ? make(Int8.self) : make(UInt8.self)
    }

    private static func optimizedQuantize(_ x: BoundTensor, _ y: BoundTensor, threads: Int) -> Kernel? {
        guard is8Bit(y), x.elementCount == y.elementCount, let yq = perTensorQuantization(y) else { return nil }
        let count = x.elementCount
        func to<Out: Quantized.Element>(_: Out.Type) -> Kernel? {
            let output = y.data.assumingMemoryBound(to: Out.self)
            if x.type == .float32 {
                let quantize = OptimizedQuantizedKernels.Quantize<Out>(scale: yq.scale, zeroPoint: yq.zeroPoint,
                                                                       threads: threads)
                return { quantize.run(x.float, output: output, count: count) }
            }
            guard is8Bit(x), let xq = perTensorQuantization(x),
                  let multiplier = try? Quantized.requantizeMultiplier(input: xq, output: yq) else { return nil }
            func from<In: Quantized.Element>(_: In.Type) -> Kernel {
                let requantize = OptimizedQuantizedKernels.Requantize<In, Out>(
                    inputZeroPoint: xq.zeroPoint, outputZeroPoint: yq.zeroPoint, multiplier: multiplier,
                    threads: threads)
                let input = x.data.assumingMemoryBound(to: In.self)
                return { requantize.run(input, output: output, count: count) }
            }
            return x.type == .int8 ? from(Int8.self) : from(UInt8.self)
        }
        return y.type == .int8 ? to(Int8.self) : to(UInt8.self)
    }

    private static func optimizedDequantize(_ x: BoundTensor, _ y: BoundTensor) -> Kernel? {
        guard is8Bit(x), y.type == .float32, x.elementCount == y.elementCount,
              let xq = perTensorQuantization(x) else { return nil }
        let count = x.elementCount
        func make<T: Quantized.Element>(_: T.Type) -> Kernel {
            let dequantize = OptimizedQuantizedKernels.Dequantize<T>(scale: xq.scale, zeroPoint: xq.zeroPoint)
            let input = x.data.assumingMemoryBound(to: T.self)
            return { dequantize.run(input, output: y.float, count: count) }
        }
        return x.type == .int8 ? make(Int8.self) : make(UInt8.self)
    }

    private static func optimizedConcatenation(_ b: OperatorBinding, _ y: BoundTensor) -> Kernel? {
        guard case let .concatenation(axis, activation) = b.op.builtinOptions, activation == .none, is8Bit(y),
              let yq = perTensorQuantization(y) else { return nil }
        let tensors = b.inputs.compactMap { $0 }
        guard tensors.count == b.inputs.count, tensors.allSatisfy({ $0.type == y.type }) else { return nil }
        func make<T: Quantized.Element>(_: T.Type) -> Kernel? {
            var inputs: [Quantized.ConcatenationInput<T>] = []
            for t in tensors {
                guard let q = perTensorQuantization(t) else { return nil }
                inputs.append(Quantized.ConcatenationInput(
                    data: UnsafeBufferPointer(start: t.data.assumingMemoryBound(to: T.self), count: t.elementCount),
                    shape: t.shape, quantization: q))
            }
            let output = UnsafeMutableBufferPointer(start: y.data.assumingMemoryBound(to: T.self),
                                                    count: y.elementCount)
            // The reference's own checks of shapes and quantization, on one run; every invocation
            // overwrites the output.
            guard (try? Quantized.concatenation(inputs, axis: axis, output: output, outputShape: y.shape,
                                                outputQuantization: yq)) != nil else { return nil }
            let concatenation = OptimizedQuantizedKernels.Concatenation<T>(
                inputs, axis: axis, outputShape: y.shape, outputQuantization: yq)
            let start = output.baseAddress!
            return { concatenation.run(output: start) }
        }
        return y.type == .int8 ? make(Int8.self) : make(UInt8.self)
    }

    /// int8 only: uint8 follows LiteRT's float path, which stays with the reference.
    private static func optimizedResizeBilinear(_ b: OperatorBinding, _ x: BoundTensor, _ y: BoundTensor,
                                                threads: Int) -> Kernel? {
        guard case let .resizeBilinear(alignCorners, halfPixelCenters) = b.op.builtinOptions, !(alignCorners && halfPixelCenters),
              x.type == .int8, y.type == .int8, x.shape.count == 4, y.shape.count == 4, x.shape[0] == y.shape[0],
              x.shape[3] == y.shape[3], x.shape[1] >= 1, x.shape[2] >= 1, y.shape[1] >= 1, y.shape[2] >= 1
        else { return nil }
        let resize = OptimizedQuantizedKernels.ResizeBilinearInt8(
            inputShape: x.shape, outputHeight: y.shape[1], outputWidth: y.shape[2], alignCorners: alignCorners,
            halfPixelCenters: halfPixelCenters, threads: threads)
        let (input, output) = (UnsafePointer(x.data.assumingMemoryBound(to: Int8.self)), y.data.assumingMemoryBound(to: Int8.self))
        return { resize.run(input, output: output) }
    }

    /// Replaces LayoutKernels.pad (for every type whose pad value is one repeated byte).
    private static func optimizedPad(_ b: OperatorBinding, _ x: BoundTensor, _ y: BoundTensor) throws -> Kernel? {
        guard b.inputs.count >= 2, let paddingTensor = b.inputs[1], sameRepresentation(x, y),
              let paddings = try? intValues(paddingTensor), paddings.count == 2 * x.shape.count else { return nil }
        let rank = x.shape.count
        let before = (0..<rank).map { paddings[2 * $0] }, after = (0..<rank).map { paddings[2 * $0 + 1] }
        guard (0..<rank).allSatisfy({ x.shape[$0] + before[$0] + after[$0] == y.shape[$0] }) else { return nil }
        // The pad value is real 0, as in OperatorDispatch.pad.
        let padValue: [UInt8]
        switch y.type {
        case .float32, .int32, .int64: padValue = [UInt8](repeating: 0, count: try elementSize(y))
        case .uint8: padValue = [UInt8(clamping: y.quantization?.zeroPoints.first ?? 0)]
        case .int8: padValue = [UInt8(bitPattern: Int8(clamping: y.quantization?.zeroPoints.first ?? 0))]
        default: return nil
        }
        guard let pad = OptimizedQuantizedKernels.Pad(inputShape: x.shape, before: before, after: after,
                                                      padValue: padValue) else { return nil }
        return { pad.run(x.data, output: y.data) }
    }
}
