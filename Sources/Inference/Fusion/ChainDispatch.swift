/// Kernels for a whole `ConvolutionChain`, by element type. nil when no fused kernel covers the chain
/// (its operators then run one by one, each with its own kernel).
extension OperatorDispatch {
    struct ChainBindings {
        let expand: OperatorBinding?
        let depthwise: OperatorBinding
        let project: OperatorBinding?
    }

    static func fusedChainKernel(_ chain: ChainBindings, threads: Int) -> Kernel? {
        // A fused chain writes output rows while input rows, possibly on another thread, are still to be
        // read. ExecutionPlan keeps a chain's input alive to the chain's end so the two never share bytes;
        // should a plan ever break that, the chain runs unfused.
        guard let x = (chain.expand ?? chain.depthwise).inputs.first ?? nil,
              let y = (chain.project ?? chain.depthwise).outputs.first, !x.sharesBytes(with: y) else { return nil }
        switch x.type {
        case .float32: return fusedFloatChainKernel(chain, threads: threads)
        case .int8, .uint8: return fusedQuantizedChainKernel(chain, threads: threads)
        default: return nil
        }
    }
}
