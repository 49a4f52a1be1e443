extension OperatorDispatch {
    /// Float32 chains: not fused yet.
    static func fusedFloatChainKernel(_ chain: ChainBindings, threads: Int) -> Kernel? { nil }
}
