// CONCATENATION of 8-bit tensors, equal element for element to Quantized.concatenation: inputs
// quantized like the output are copied block by block with memcpy; the others are requantized through
// a 256-entry table filled at load with the reference's float expression.

extension OptimizedQuantizedKernels {
    public struct Concatenation<T: Quantized.Element>: Sendable {
        struct Input: @unchecked Sendable {
            /// nil only for an empty input (block size 0).
            let data: UnsafePointer<T>?
            /// Elements copied per step of the dimensions before the axis.
            let blockSize: Int
            /// nil when the input is copied unchanged.
            let requantization: KernelTable<T>?
        }
        let inputs: [Input]
        let outerSize: Int

        /// The caller has checked the shapes (the reference's own checks, on one run at load).
        public init(_ inputs: [Quantized.ConcatenationInput<T>], axis: Int, outputShape: [Int],
                    outputQuantization: Quantized.TensorQuantization) {
            let rank = outputShape.count
            let axis = axis < 0 ? axis + rank : axis
            outerSize = outputShape[..<axis].reduce(1, *)
            let innerSize = outputShape[(axis + 1)...].reduce(1, *)
            let outputScale = outputQuantization.scale, outputZeroPoint = outputQuantization.zeroPoint
            let inverseOutputScale = 1 / outputScale
            self.inputs = inputs.map { input in
                let q = input.quantization
                var table: KernelTable<T>?
                if q.zeroPoint != outputZeroPoint || q.scale != outputScale {
                    let scale = q.scale * inverseOutputScale
                    let bias = -Float(q.zeroPoint) * scale
                    table = KernelTable(count: 256) { index in
                        let rescaled = (Float(T.fromTableIndex(index).widened) * scale + bias)
                            .rounded(.toNearestOrAwayFromZero)
                        let value = Int32(clampingToInt32: rescaled) &+ outputZeroPoint
                        return T(clamped: min(max(value, T.minimumValue), T.maximumValue))
                    }
                }
                return Input(data: input.data.baseAddress, blockSize: input.shape[axis] * innerSize,
                             requantization: table)
            }
        }

        public func run(output: UnsafeMutablePointer<T>) {
            var out = output
            for outer in 0..<outerSize {
                for input in inputs {
                    guard let data = input.data else { continue }
                    let source = data + outer * input.blockSize
                    if let table = input.requantization?.entries {
                        for j in 0..<input.blockSize { out[j] = table[source[j].tableIndex] }
                    } else {
                        out.update(from: source, count: input.blockSize)
                    }
                    out += input.blockSize
                }
            }
        }
    }
}
