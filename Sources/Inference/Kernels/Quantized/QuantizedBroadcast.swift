// Numpy-style broadcasting of two operands to an output shape, as TFLite's broadcasting binary ops
// do: shapes are right-aligned, and a dimension of 1 repeats.

extension Quantized {
    struct Broadcast {
        let outputShape: [Int]
        /// Per output dimension, the element stride in each input (0 where that input repeats).
        let strides1: [Int]
        let strides2: [Int]
        let isElementwise: Bool

        init(_ shape1: [Int], _ shape2: [Int], _ outputShape: [Int], _ what: String) throws {
            let rank = outputShape.count
            guard shape1.count <= rank, shape2.count <= rank else {
                throw KernelError("\(what): inputs \(shape1) and \(shape2) have more dimensions than output \(outputShape)")
            }
            func strides(_ shape: [Int]) throws -> [Int] {
                let padded = [Int](repeating: 1, count: rank - shape.count) + shape
                var result = [Int](repeating: 0, count: rank)
                var elementStride = 1
                for axis in stride(from: rank - 1, through: 0, by: -1) {
                    if padded[axis] == outputShape[axis] {
                        result[axis] = padded[axis] == 1 ? 0 : elementStride
                    } else if padded[axis] != 1 {
                        throw KernelError("\(what): input \(shape) does not broadcast to output \(outputShape)")
                    }
                    elementStride *= padded[axis]
                }
                return result
            }
            self.outputShape = outputShape
            strides1 = try strides(shape1)
            strides2 = try strides(shape2)
            isElementwise = shape1 == outputShape && shape2 == outputShape
        }

        /// Writes `element(a, b)` of the widened inputs, clamped to T, to every output element: the
        /// loop ADD and MUL share (their element functions differ).
        @inline(__always)
        func apply<T: Element>(_ input1: UnsafeBufferPointer<T>, _ input2: UnsafeBufferPointer<T>,
                               to output: UnsafeMutableBufferPointer<T>, _ element: (Int32, Int32) -> Int32) {
            if isElementwise {
                for i in 0..<output.count {
                    output[i] = T(clamped: element(input1[i].widened, input2[i].widened))
                }
            } else {
                forEach { outputIndex, index1, index2 in
                    output[outputIndex] = T(clamped: element(input1[index1].widened, input2[index2].widened))
                }
            }
        }

        /// Calls `body(outputIndex, input1Index, input2Index)` for every output element in order.
        func forEach(_ body: (Int, Int, Int) -> Void) {
            let rank = outputShape.count
            let total = outputShape.reduce(1, *)
            guard total > 0 else { return }
            var counter = [Int](repeating: 0, count: rank)
            var index1 = 0, index2 = 0
            for outputIndex in 0..<total {
                body(outputIndex, index1, index2)
                // Odometer increment from the innermost axis.
                var axis = rank - 1
                while axis >= 0 {
                    counter[axis] += 1
                    index1 += strides1[axis]
                    index2 += strides2[axis]
                    if counter[axis] < outputShape[axis] { break }
                    index1 -= strides1[axis] * counter[axis]
                    index2 -= strides2[axis] * counter[axis]
                    counter[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
