/// Kernels for a whole `ConvolutionChain`, by element type. nil when no fused kernel covers the chain
/// (its operators then run one by one, each with its own kernel).
extension OperatorDispatch {
    struct ChainBindings {
        let expand: OperatorBinding?
        let depthwise: OperatorBinding
        let project: OperatorBinding?
    }

    /// A fused chain's kernel for its input and output bytes. The fused object (packed weights, band
    /// sizes) is made before the arena is laid out, which depends on which chains fuse.
    typealias FusedChainBinder = (_ input: UnsafeMutableRawPointer, _ output: UnsafeMutableRawPointer) -> Kernel

    /// nil when no fused kernel takes the chain. Only the stages' weights, shapes and quantization are
    /// read: the activations' addresses may be a draft. The caller must give the kernel an input and an
    /// output that share no bytes: the chain writes output rows while other input rows are still to be
    /// read (ExecutionPlan.placeActivations(fusing:) lays them out so).
    static func fusedChainKernel(_ chain: ChainBindings, threads: Int) -> FusedChainBinder? {
        guard let x = (chain.expand ?? chain.depthwise).inputs.first ?? nil else { return nil }
        switch x.type {
        case .float32: return fusedFloatChainKernel(chain, threads: threads)
        case .int8, .uint8: return fusedQuantizedChainKernel(chain, threads: threads)
        default: return nil
        }
    }
}
