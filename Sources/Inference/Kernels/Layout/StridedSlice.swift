extension LayoutKernels {
    /// Resolved per-axis slice of STRIDED_SLICE: element `start + k * stride` for k in 0..<count.
    public struct AxisSlice: Sendable, Equatable {
        public var start: Int, stride: Int, count: Int
        public init(start: Int, stride: Int, count: Int) {
            self.start = start
            self.stride = stride
            self.count = count
        }
    }

    /// Resolves STRIDED_SLICE's begin/end/strides and masks into per-axis slices, as TFLite's
    /// strided_slice_logic does (StartForAxis / StopForAxis): masked begins/ends take the full range in
    /// the stride's direction; negative indices count from the end; values clamp to [0, size] for
    /// positive strides and [-1, size - 1] for negative; a shrunk axis takes exactly one element.
    /// Axes beyond `begin.count` take everything. Returns the slices and the output shape (shrunk axes
    /// removed). Ellipsis and new-axis masks must be resolved by the caller (nil when they are set).
    public static func resolveStridedSlice(inputShape: [Int], begin: [Int], end: [Int], strides: [Int],
                                           beginMask: Int32, endMask: Int32, shrinkAxisMask: Int32,
                                           offset: Bool) -> (slices: [AxisSlice], outputShape: [Int])? {
        guard begin.count == end.count, begin.count == strides.count, begin.count <= inputShape.count else {
            return nil
        }
        var slices: [AxisSlice] = []
        var outputShape: [Int] = []
        for axis in 0..<inputShape.count {
            let size = inputShape[axis]
            guard axis < begin.count else {
                slices.append(.init(start: 0, stride: 1, count: size))
                outputShape.append(size)
                continue
            }
            let stride = strides[axis]
            guard stride != 0 else { return nil }
            let bit = Int32(1) << Int32(axis)
            let shrink = shrinkAxisMask & bit != 0
            var start = begin[axis]
            if beginMask & bit != 0 {
                start = stride > 0 ? 0 : size - 1
            } else {
                if start < 0 { start += size }
                start = stride > 0 ? min(max(start, 0), size) : min(max(start, -1), size - 1)
            }
            var stop: Int
            if shrink {
                guard start >= 0 && start < size else { return nil }
                stop = start + 1
            } else if endMask & bit != 0 {
                stop = stride > 0 ? size : -1
            } else {
                stop = offset ? begin[axis] + end[axis] : end[axis]
                if stop < 0 { stop += size }
                stop = stride > 0 ? min(max(stop, 0), size) : min(max(stop, -1), size - 1)
            }
            let span = stop - start
            let count = stride > 0 ? max(0, (span + stride - 1) / stride) : max(0, (span + stride + 1) / stride)
            slices.append(.init(start: start, stride: shrink ? 1 : stride, count: shrink ? 1 : count))
            if !shrink { outputShape.append(count) }
        }
        return (slices, outputShape)
    }

    /// STRIDED_SLICE data movement for resolved slices over any element size.
    public static func stridedSlice(_ input: UnsafeRawPointer, inputShape: [Int], slices: [AxisSlice],
                                    elementSize: Int, output: UnsafeMutableRawPointer) {
        var inputStrides = [Int](repeating: elementSize, count: inputShape.count)
        for axis in stride(from: inputShape.count - 2, through: 0, by: -1) {
            inputStrides[axis] = inputStrides[axis + 1] * inputShape[axis + 1]
        }
        var written = 0
        func copy(axis: Int, base: Int) {
            let s = slices[axis]
            for k in 0..<s.count {
                let position = base + (s.start + k * s.stride) * inputStrides[axis]
                if axis == slices.count - 1 {
                    (output + written).copyMemory(from: input + position, byteCount: elementSize)
                    written += elementSize
                } else {
                    copy(axis: axis + 1, base: position)
                }
            }
        }
        if slices.isEmpty {
            output.copyMemory(from: input, byteCount: elementSize)
        } else {
            copy(axis: 0, base: 0)
        }
    }
}
