// PAD whose pad value is one repeated byte (8-bit tensors: the zero point; 0.0, 0 for wider types),
// equal byte for byte to LayoutKernels.pad: every output byte is written once, borders with memset and
// input runs with memcpy. Inner dimensions without padding are merged first, so the copies are as long
// as the contiguous runs (e.g. whole padded rows of an NHWC image).

extension OptimizedQuantizedKernels {
    public struct Pad: Sendable {
        /// Merged dimensions, in bytes for the innermost one.
        let inputShape: [Int]
        let before: [Int]
        let after: [Int]
        let padByte: UInt8

        /// nil when the pad value's bytes differ (a memset cannot write it) or the padding is negative.
        public init?(inputShape: [Int], before: [Int], after: [Int], padValue: [UInt8]) {
            guard let padByte = padValue.first, padValue.allSatisfy({ $0 == padByte }),
                  inputShape.count == before.count, inputShape.count == after.count,
                  (before + after + inputShape).allSatisfy({ $0 >= 0 }) else { return nil }
            // The element's bytes are one more unpadded dimension.
            var shape = inputShape + [padValue.count]
            var before = before + [0], after = after + [0]
            while shape.count > 1, before[shape.count - 1] == 0, after[shape.count - 1] == 0 {
                let inner = shape.removeLast()
                before.removeLast()
                after.removeLast()
                let d = shape.count - 1
                shape[d] *= inner
                before[d] *= inner
                after[d] *= inner
            }
            self.inputShape = shape
            self.before = before
            self.after = after
            self.padByte = padByte
        }

        public func run(_ input: UnsafeRawPointer, output: UnsafeMutableRawPointer) {
            let rank = inputShape.count
            var outputStrides = [Int](repeating: 1, count: rank), inputStrides = [Int](repeating: 1, count: rank)
            for d in stride(from: rank - 2, through: 0, by: -1) {
                outputStrides[d] = outputStrides[d + 1] * (before[d + 1] + inputShape[d + 1] + after[d + 1])
                inputStrides[d] = inputStrides[d + 1] * inputShape[d + 1]
            }
            fill(0, input, output, outputStrides, inputStrides)
        }

        /// Writes output slab `d` (its before-padding, the input's slices, its after-padding).
        private func fill(_ d: Int, _ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer,
                          _ outputStrides: [Int], _ inputStrides: [Int]) {
            let head = before[d] * outputStrides[d]
            output.initializeMemory(as: UInt8.self, repeating: padByte, count: head)
            if d == inputShape.count - 1 {
                (output + head).copyMemory(from: input, byteCount: inputShape[d])
            } else {
                for i in 0..<inputShape[d] {
                    fill(d + 1, input + i * inputStrides[d], output + head + i * outputStrides[d], outputStrides,
                         inputStrides)
                }
            }
            let tail = head + inputShape[d] * outputStrides[d]
            (output + tail).initializeMemory(as: UInt8.self, repeating: padByte, count: after[d] * outputStrides[d])
        }
    }
}
