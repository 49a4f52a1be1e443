import Testing
@testable import Inference

// Hand-worked expectations for the type-generic data-movement kernels.

private func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
private func values<T>(_ raw: [UInt8], as: T.Type) -> [T] {
    raw.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}

@Test func concatenationAlongInnerAxis() {
    // [[1],[2]] ++ [[3,4],[5,6]] along axis 1 -> [[1,3,4],[2,5,6]]; blocks per row are 1 and 2 floats.
    let a: [Float] = [1, 2], b: [Float] = [3, 4, 5, 6]
    var out = [Float](repeating: 0, count: 6)
    a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in
            out.withUnsafeMutableBytes { po in
                LayoutKernels.concatenate([pa.baseAddress!, pb.baseAddress!], blockBytes: [4, 8], outerCount: 2,
                                          output: po.baseAddress!)
            }
        }
    }
    #expect(out == [1, 3, 4, 2, 5, 6])
}

@Test func tileRepeatsOutermostFirst() {
    func tile(_ input: [Int32], shape: [Int], multiples: [Int]) -> [Int32] {
        var out = [Int32](repeating: -1, count: zip(shape, multiples).map(*).reduce(1, *))
        input.withUnsafeBytes { pi in
            out.withUnsafeMutableBytes { po in
                LayoutKernels.tile(pi.baseAddress!, shape: shape, multiples: multiples, elementSize: 4,
                                   output: po.baseAddress!)
            }
        }
        return out
    }
    #expect(tile([1, 2], shape: [2], multiples: [3]) == [1, 2, 1, 2, 1, 2])
    // [[1],[2]] tiled [2, 3] -> [[1,1,1],[2,2,2],[1,1,1],[2,2,2]].
    #expect(tile([1, 2], shape: [2, 1], multiples: [2, 3]) == [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2])
}

@Test func padWithZeroPointByte() {
    // uint8 [[1,2],[3,4]] padded one row before and two columns after, pad value 128:
    // [[128,128,128,128],[1,2,128,128],[3,4,128,128]].
    var out = [UInt8](repeating: 0, count: 12)
    let input: [UInt8] = [1, 2, 3, 4]
    input.withUnsafeBytes { pi in
        out.withUnsafeMutableBytes { po in
            LayoutKernels.pad(pi.baseAddress!, inputShape: [2, 2], before: [1, 0], after: [0, 2], padValue: [128],
                              output: po.baseAddress!)
        }
    }
    #expect(out == [128, 128, 128, 128, 1, 2, 128, 128, 3, 4, 128, 128])
}

private func slice(_ shape: [Int], begin: [Int], end: [Int], strides: [Int], beginMask: Int32 = 0, endMask: Int32 = 0,
                   shrink: Int32 = 0, offset: Bool = false) -> (values: [Int32], shape: [Int])? {
    let input = (0..<Int32(shape.reduce(1, *))).map { $0 }
    guard let r = LayoutKernels.resolveStridedSlice(inputShape: shape, begin: begin, end: end, strides: strides,
                                                    beginMask: beginMask, endMask: endMask, shrinkAxisMask: shrink,
                                                    offset: offset) else { return nil }
    var out = [Int32](repeating: -1, count: r.outputShape.reduce(1, *))
    input.withUnsafeBytes { pi in
        out.withUnsafeMutableBytes { po in
            LayoutKernels.stridedSlice(pi.baseAddress!, inputShape: shape, slices: r.slices, elementSize: 4,
                                       output: po.baseAddress!)
        }
    }
    return (out, r.outputShape)
}

@Test func stridedSliceSemantics() {
    // Input [3,4] = 0..11 row-major.
    // Rows 1..<3; columns from -1 (= 3) down to 0 exclusive with stride -1 -> 3, 2, 1.
    let reversed = slice([3, 4], begin: [1, -1], end: [3, 0], strides: [1, -1])
    #expect(reversed?.shape == [2, 3])
    #expect(reversed?.values == [7, 6, 5, 11, 10, 9])
    // Shrink axis 0 at row 2; columns 0..<4 step 2 -> [8, 10], rank 1.
    let shrunk = slice([3, 4], begin: [2, 0], end: [3, 4], strides: [1, 2], shrink: 1)
    #expect(shrunk?.shape == [2])
    #expect(shrunk?.values == [8, 10])
    // begin/end masks on axis 1 take the whole row whatever begin/end say.
    let masked = slice([3, 4], begin: [0, 3], end: [1, 0], strides: [1, 1], beginMask: 2, endMask: 2)
    #expect(masked?.shape == [1, 4])
    #expect(masked?.values == [0, 1, 2, 3])
    // offset: end is begin + end -> rows 1..<3, columns 1..<3.
    let relative = slice([3, 4], begin: [1, 1], end: [2, 2], strides: [1, 1], offset: true)
    #expect(relative?.values == [5, 6, 9, 10])
    // Out-of-range ends clamp: columns 2..<100 -> 2, 3.
    #expect(slice([3, 4], begin: [0, 2], end: [1, 100], strides: [1, 1])?.values == [2, 3])
    // A zero stride is invalid.
    #expect(slice([3, 4], begin: [0, 0], end: [1, 1], strides: [1, 0]) == nil)
}

@Test func memoryPlannerSharesMemoryOnlyBetweenDisjointLifetimes() {
    // A lives in steps 0-1, B 1-2, C 2-3 (100 bytes each, aligned to 128): A and C can share offset 0,
    // B overlaps both and goes above them.
    let (offsets, arena) = MemoryPlanner.plan([
        .init(tensorIndex: 0, byteCount: 100, firstStep: 0, lastStep: 1),
        .init(tensorIndex: 1, byteCount: 100, firstStep: 1, lastStep: 2),
        .init(tensorIndex: 2, byteCount: 100, firstStep: 2, lastStep: 3),
    ])
    #expect(offsets[0] == 0)
    #expect(offsets[1] == 128)
    #expect(offsets[2] == 0)
    #expect(arena == 256)
}
