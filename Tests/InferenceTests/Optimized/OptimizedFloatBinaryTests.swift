import Testing
@testable import Inference

/// The split float ADD/MUL/SUB against the reference kernels: bit for bit (each is one IEEE operation and
/// the clamp), at 1-3 threads, on counts below, at and above the size where the work is split, with
/// values scaled so that the relu6 clamp cuts on both sides.
@Test func optimizedFloatElementwiseEqualsTheReferenceBitForBit() {
    var random = SeededRandom(state: 11)
    let operations: [(OptimizedFloatKernels.ElementwiseBinary.Operation,
                      (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                       FloatKernels.BroadcastShapes, ClampRange) -> Void)] = [
        (.add, { FloatKernels.add($0, $1, output: $2, shapes: $3, clamp: $4) }),
        (.mul, { FloatKernels.mul($0, $1, output: $2, shapes: $3, clamp: $4) }),
        (.sub, { FloatKernels.sub($0, $1, output: $2, shapes: $3, clamp: $4) }),
    ]
    let split = TileRunner.smallestElementwiseSplit
    var checked = 0
    for count in [1, 17, split - 1, split, 3 * split + 5] {
        let left = random.floats(count).map { $0 * 8 }, right = random.floats(count).map { $0 * 8 }
        let shapes = FloatKernels.BroadcastShapes(left: [count], right: [count])!
        for (operation, reference) in operations {
            for clamp in [ClampRange.unbounded, .relu, .relu6] {
                var expected = [Float](repeating: .nan, count: count)
                reference(left, right, &expected, shapes, clamp)
                for threads in [1, 2, 3] {
                    let kernel = OptimizedFloatKernels.ElementwiseBinary(operation, clamp: clamp, threads: threads)
                    var output = [Float](repeating: .nan, count: count)
                    kernel.run(left, right, output: &output, count: count)
                    let differing = output.indices.first { output[$0].bitPattern != expected[$0].bitPattern }
                    #expect(differing == nil, "\(operation) \(clamp) count \(count) x\(threads): element \(differing ?? -1)")
                    checked += 1
                }
            }
        }
    }
    #expect(checked == 5 * 3 * 3 * 3)
}
