import Testing
import TFLiteModel
@testable import Inference

/// The chains of the person model, worked out by hand from `ssd-energy inspect`'s operator list: every
/// expand → depthwise → project block (the first one's "expand" being the 3x3 stride-2 first layer), and
/// the depthwise → 1x1 pairs, except where a tensor has several readers (operators 47 and 67 feed three
/// depthwise convolutions each, so they start no chain).
@Test func personModelChainsAreTheHandDerivedOnes() throws {
    let interpreter = try Interpreter(model: try SharedModels.load(SharedModels.person("fp32")))
    // No operator of the float model folds, so runtime positions are operator indices.
    #expect(interpreter.operatorCounts == (runtime: 112, folded: 0))
    let blocks = [0, 3, 6, 10, 13, 17, 21, 24, 28, 32, 36, 39, 43, 56, 60, 64, 74, 83, 92, 101]
    let pairs = [48, 50, 54, 68, 70, 77, 79, 86, 88, 95, 97, 104, 106]
    let expected = (blocks.map { ConvolutionChain(expand: $0, depthwise: $0 + 1, project: $0 + 2) }
        + pairs.map { ConvolutionChain(expand: nil, depthwise: $0, project: $0 + 1) })
        .sorted { $0.depthwise < $1.depthwise }
    #expect(interpreter.convolutionChains == expected)
    #expect(interpreter.convolutionChains.first?.name == "CONV_2D+DEPTHWISE_CONV_2D+CONV_2D")
    #expect(interpreter.convolutionChains.first { $0.expand == nil }?.name == "DEPTHWISE_CONV_2D+CONV_2D")
}

/// Each kernel names the operators it runs: all of them once, in order, a fused chain's together.
@Test func kernelsNameTheOperatorsTheyRun() throws {
    for threads in [1, 2] {
        let interpreter = try Interpreter(model: try SharedModels.load(SharedModels.person("int8")),
                                          options: .init(threads: threads))
        let runtime = interpreter.kernelOperatorIndices.flatMap { $0 }
        #expect(runtime == runtime.sorted() && Set(runtime).count == runtime.count)
        #expect(runtime.count == interpreter.operatorCounts.runtime)
        for (names, operators) in zip(interpreter.kernelOperatorNames, interpreter.kernelOperatorIndices) {
            #expect(names.split(separator: "+").count == operators.count, "\(names) runs \(operators)")
        }
        #expect(interpreter.kernelOperatorIndices.contains { $0.count == 3 }, "no chain was fused")
    }
}
