import TFLiteModel

/// A depthwise convolution with the convolutions around it that only feed it or only read it: MobileNet's
/// expand → depthwise → project block, or part of it. The project is pointwise (1x1, stride 1); so is
/// the expand, except for the first layer's 3x3 stride-2 convolution before the first depthwise. Run
/// band by band of output rows, the expanded and depthwise tensors never leave the cache, where run
/// operator by operator each is written to memory and read back (the early layers' are several MB).
///
/// Which chains exist depends only on the graph; whether one runs fused depends on a kernel for its
/// element type accepting it (`OperatorDispatch.fusedChainKernel`), else its operators run one by one.
struct ConvolutionChain: Equatable {
    /// Positions in the runtime operator list: consecutive, `expand` (when present) just before
    /// `depthwise`, `project` just after.
    let expand: Int?
    let depthwise: Int
    let project: Int?

    var positions: ClosedRange<Int> { (expand ?? depthwise)...(project ?? depthwise) }

    /// The operator names joined with "+", as profiles show the fused kernel.
    var name: String {
        ((expand == nil ? [] : ["CONV_2D"]) + ["DEPTHWISE_CONV_2D"] + (project == nil ? [] : ["CONV_2D"]))
            .joined(separator: "+")
    }

    /// The chains among `bindings` (runtime operators in order), none overlapping, found left to right.
    /// `graphOutputs`: tensors the caller reads after invoking, which must be written, so never fused away.
    static func find(in bindings: [OperatorBinding?], graphOutputs: Set<Int>) -> [ConvolutionChain] {
        var readers: [Int: Int] = [:]
        for b in bindings.compactMap({ $0 }) {
            for t in b.inputs.compactMap({ $0 }) { readers[t.index, default: 0] += 1 }
        }
        /// `consumer` is the only reader of `producer`'s output, which nobody else needs.
        func feedsOnly(_ producer: OperatorBinding, _ consumer: OperatorBinding) -> Bool {
            guard producer.outputs.count == 1, let x = consumer.inputs.first ?? nil else { return false }
            let t = producer.outputs[0].index
            return x.index == t && readers[t] == 1 && !graphOutputs.contains(t)
        }
        func binding(_ i: Int) -> OperatorBinding? { i < bindings.count ? bindings[i] : nil }

        var chains: [ConvolutionChain] = []
        var p = 0
        while p < bindings.count {
            guard let first = bindings[p] else { p += 1; continue }
            var expand: Int?, depthwise: Int?
            if isConvolution(first), let next = binding(p + 1), isDepthwise(next), feedsOnly(first, next) {
                (expand, depthwise) = (p, p + 1)
            } else if isDepthwise(first) {
                depthwise = p
            }
            guard let d = depthwise, let dw = bindings[d] else { p += 1; continue }
            var project: Int?
            if let next = binding(d + 1), isPointwise(next), feedsOnly(dw, next) { project = d + 1 }
            if expand == nil && project == nil { p += 1; continue }
            let chain = ConvolutionChain(expand: expand, depthwise: d, project: project)
            chains.append(chain)
            p = chain.positions.upperBound + 1
        }
        return chains
    }

    /// Any CONV_2D: an expand may have any window, as long as its output only feeds the depthwise.
    static func isConvolution(_ b: OperatorBinding) -> Bool {
        guard b.name == "CONV_2D", case .conv2D = b.op.builtinOptions else { return false }
        return true
    }

    /// CONV_2D with a 1x1 filter and stride 1: its output pixel is a function of the same input pixel only.
    static func isPointwise(_ b: OperatorBinding) -> Bool {
        guard b.name == "CONV_2D", case let .conv2D(o) = b.op.builtinOptions, o.strideHeight == 1, o.strideWidth == 1,
              b.inputs.count >= 2, let w = b.inputs[1], w.shape.count == 4, w.shape[1] == 1, w.shape[2] == 1
        else { return false }
        return true
    }

    static func isDepthwise(_ b: OperatorBinding) -> Bool {
        guard b.name == "DEPTHWISE_CONV_2D", case .depthwiseConv2D = b.op.builtinOptions else { return false }
        return true
    }
}
