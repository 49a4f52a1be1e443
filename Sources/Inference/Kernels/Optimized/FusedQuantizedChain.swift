extension OperatorDispatch {
    /// 8-bit chains: not fused yet.
    static func fusedQuantizedChainKernel(_ chain: ChainBindings, threads: Int) -> Kernel? { nil }
}
