/// Kernels for a whole `ConvolutionChain` (or a `ResidualAdd` alone), by element type. nil when no fused
/// kernel covers the operators (they then run one by one, each with its own kernel).
extension OperatorDispatch {
    struct ChainBindings {
        let expand: OperatorBinding?
        let depthwise: OperatorBinding
        let project: OperatorBinding?
        /// The residual ADD after `project` (`ResidualAdd`), fused into the project's GEMM.
        var residualAdd: OperatorBinding? = nil
    }

    /// A fused kernel for its input, output and (when it ends with a residual ADD) residual bytes. The
    /// fused object (packed weights, band sizes) is made before the arena is laid out, which depends on
    /// which operators fuse.
    typealias FusedKernelBinder = (_ input: UnsafeMutableRawPointer, _ output: UnsafeMutableRawPointer,
                                   _ residual: UnsafeMutableRawPointer?) -> Kernel

    /// nil when no fused kernel takes the chain. Only the stages' weights, shapes and quantization are
    /// read: the activations' addresses may be a draft. The caller must give the kernel an input and an
    /// output that share no bytes: the chain writes output rows while other input rows are still to be
    /// read (ExecutionPlan.placeActivations(fusing:) lays them out so).
    static func fusedChainKernel(_ chain: ChainBindings, threads: Int) -> FusedKernelBinder? {
        guard let x = (chain.expand ?? chain.depthwise).inputs.first ?? nil else { return nil }
        switch x.type {
        case .float32: return fusedFloatChainKernel(chain, threads: threads)
        case .int8, .uint8: return chain.residualAdd == nil ? fusedQuantizedChainKernel(chain, threads: threads) : nil
        default: return nil
        }
    }

    /// A float 1x1 convolution and the residual ADD after it as one GEMM, or nil (then they run one by one).
    static func fusedResidualAddKernel(convolution: OperatorBinding, add: OperatorBinding,
                                       threads: Int) -> FusedKernelBinder? {
        guard let conv = try? optimizedFloatConv2D(convolution, threads: threads), conv.readsInputDirectly,
              conv.clamp == .unbounded, let clamp = residualAddClamp(add) else { return nil }
        return { x, y, residual in
            let r = residual!.assumingMemoryBound(to: Float.self)
            return {
                conv.runAddingResidual(input: x.assumingMemoryBound(to: Float.self), residual: r,
                                       output: y.assumingMemoryBound(to: Float.self), clamp: clamp)
            }
        }
    }

    /// The clamp of a float ADD's activation, nil for activations the reference rejects.
    static func residualAddClamp(_ add: OperatorBinding) -> ClampRange? {
        guard case let .add(activation) = add.op.builtinOptions else { return nil }
        return try? clampRange(activation)
    }
}
