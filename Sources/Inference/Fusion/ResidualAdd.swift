import TFLiteModel

/// A 1x1 convolution without activation whose output only feeds the float ADD right after it (with a
/// clamping activation or none), whose other input (the residual) has the same shape: MobileNet V2's
/// project convolution and the skip connection's ADD. The GEMM adds the residual in its epilogue
/// (`ck_gemm_f32_residual`), so the convolution's output is never written and read back, and the ADD needs
/// no pass of its own (at 2 threads, no hand-off to the pool either).
struct ResidualAdd: Equatable {
    /// Runtime positions: `add` is `convolution + 1`.
    let convolution: Int
    let add: Int
    /// Which of the ADD's two inputs is the residual (the other is the convolution's output).
    let residualInput: Int

    /// The residual ADDs among `bindings` (runtime operators in order). `graphOutputs`: tensors the caller
    /// reads after invoking, which must be written, so never fused away.
    static func find(in bindings: [OperatorBinding?], graphOutputs: Set<Int>) -> [ResidualAdd] {
        var readers: [Int: Int] = [:]
        for b in bindings.compactMap({ $0 }) {
            for t in b.inputs.compactMap({ $0 }) { readers[t.index, default: 0] += 1 }
        }
        var found: [ResidualAdd] = []
        for position in bindings.indices.dropLast() {
            guard let conv = bindings[position], let add = bindings[position + 1],
                  ConvolutionChain.isPointwise(conv), case let .conv2D(o) = conv.op.builtinOptions,
                  o.activation == .none,
                  conv.outputs.count == 1, let convolved = conv.outputs.first, convolved.type == .float32,
                  readers[convolved.index] == 1, !graphOutputs.contains(convolved.index),
                  add.name == "ADD", case .add = add.op.builtinOptions, add.inputs.count == 2,
                  let left = add.inputs[0], let right = add.inputs[1], left.index != right.index,
                  let sum = add.outputs.first, sum.type == .float32, sum.shape == convolved.shape,
                  OperatorDispatch.residualAddClamp(add) != nil
            else { continue }
            let residualInput = left.index == convolved.index ? 1 : right.index == convolved.index ? 0 : -1
            guard residualInput >= 0, let residual = add.inputs[residualInput], residual.type == .float32,
                  residual.shape == convolved.shape else { continue }
            found.append(ResidualAdd(convolution: position, add: position + 1, residualInput: residualInput))
        }
        return found
    }
}
