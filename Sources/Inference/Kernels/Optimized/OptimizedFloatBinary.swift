// ADD, MUL and SUB on float32 tensors of one shape, split across threads. Each output element is the
// reference's clamp(a op b), one IEEE operation, so the results equal FloatKernels' bit for bit. The split
// matters more than the arithmetic: threads take contiguous ranges, the first to the calling thread, as
// the convolutions before them split their output rows, so each thread mostly reads what its own core
// just wrote. Run on one thread after a 2-thread convolution, the person model's residual ADDs took
// 1.4-2.2x their 1-thread time, half their input sitting in the other core's cache.
import TFLiteModel

extension OptimizedFloatKernels {
    public struct ElementwiseBinary: Sendable {
        public enum Operation: Sendable { case add, mul, sub }

        let operation: Operation
        let clamp: ClampRange
        let runner: TileRunner

        public init(_ operation: Operation, clamp: ClampRange, threads: Int) {
            self.operation = operation
            self.clamp = clamp
            runner = TileRunner(threads: threads)
        }

        public func run(_ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        count: Int) {
            let parallel = count >= TileRunner.smallestElementwiseSplit ? runner : TileRunner(threads: 1)
            let clamp = self.clamp
            parallel.run(count) { begin, end in
                switch operation {
                case .add: for i in begin..<end { output[i] = clamp.apply(left[i] + right[i]) }
                case .mul: for i in begin..<end { output[i] = clamp.apply(left[i] * right[i]) }
                case .sub: for i in begin..<end { output[i] = clamp.apply(left[i] - right[i]) }
                }
            }
        }
    }
}

extension OperatorDispatch {
    /// Float32 ADD, MUL or SUB of two tensors of the output's shape; nil otherwise (broadcasting, other
    /// types, an activation the reference rejects), so the reference kernel runs or reports the problem.
    static func optimizedFloatElementwise(_ b: OperatorBinding, threads: Int) -> Kernel? {
        guard b.inputs.count == 2, let left = b.inputs[0], let right = b.inputs[1], let y = b.outputs.first,
              left.type == .float32, right.type == .float32, y.type == .float32,
              left.shape == y.shape, right.shape == y.shape else { return nil }
        let operation: OptimizedFloatKernels.ElementwiseBinary.Operation
        let activation: TFLiteModel.Activation
        switch b.op.builtinOptions {
        case let .add(a) where b.name == "ADD": (operation, activation) = (.add, a)
        case let .mul(a) where b.name == "MUL": (operation, activation) = (.mul, a)
        case let .sub(a) where b.name == "SUB": (operation, activation) = (.sub, a)
        default: return nil
        }
        guard let clamp = try? clampRange(activation) else { return nil }
        let kernel = OptimizedFloatKernels.ElementwiseBinary(operation, clamp: clamp, threads: threads)
        let count = y.elementCount
        return { kernel.run(left.float, right.float, output: y.float, count: count) }
    }
}
