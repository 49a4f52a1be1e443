import Foundation
import TFLiteModel

/// Runs a TFLite model's main subgraph with the reference kernels.
///
/// Loading plans everything once (shapes, folding, one arena for all activations, kernels bound to
/// fixed pointers); `invoke()` then only runs the kernels. Not thread-safe: one invocation at a time.
public final class Interpreter {
    /// How float models' weights are computed with.
    public enum WeightPrecision: String, Sendable, CaseIterable {
        /// float16 weights (behind DEQUANTIZE) are widened to float32 once at load.
        case float32
        /// Convolutions read float16 weights and widen each on the fly: half the weight memory traffic.
        case float16OnTheFly = "float16-on-the-fly"
    }

    /// Which kernel set runs the operators.
    public enum KernelSet: String, Sendable, CaseIterable {
        /// The optimized kernels where one applies (the default), else the reference kernel.
        case optimized
        /// Only the reference kernels (Kernels/Float, Kernels/Quantized): the oracle, bit-exact with
        /// TFLite's reference kernels, for whole-model comparisons.
        case reference
    }

    public struct Options: Sendable {
        public var weightPrecision: WeightPrecision
        public var kernels: KernelSet
        /// Planning fails beyond this many activation bytes, so a corrupt file cannot make us allocate
        /// absurd amounts (real SSD models need tens of MB).
        public var maxArenaBytes: Int

        /// Threads the optimized kernels split each operator across (1 = run on the calling thread only).
        public var threads: Int

        /// Runs each depthwise convolution together with the pointwise convolutions that feed it or read it
        /// (`ConvolutionChain`) where a fused kernel exists, band by band so the intermediate tensors stay
        /// in cache. Optimized kernels only; `false` runs every operator separately (for comparisons).
        public var fusesConvolutionChains: Bool

        public static let defaultMaxArenaBytes = 2 << 30

        public init(weightPrecision: WeightPrecision = .float32, maxArenaBytes: Int = Options.defaultMaxArenaBytes,
                    threads: Int = 1, kernels: KernelSet = .optimized, fusesConvolutionChains: Bool = true) {
            self.weightPrecision = weightPrecision
            self.kernels = kernels
            self.fusesConvolutionChains = fusesConvolutionChains
            self.maxArenaBytes = maxArenaBytes
            self.threads = max(1, threads)
        }
    }

    /// A graph input or output: what a caller must feed or will read.
    public struct TensorInfo: Sendable, Equatable {
        /// Index in the subgraph's tensor list.
        public let tensorIndex: Int
        public let name: String
        public let shape: [Int]
        public let type: TFLiteModel.TensorType
        public let quantization: TFLiteModel.Quantization?

        public var elementCount: Int { shape.reduce(1, *) }
        public var byteCount: Int { elementCount * (type.byteSize ?? 0) }
    }

    /// A copy of a tensor's contents.
    public struct TensorValue: Sendable {
        public let info: TensorInfo
        /// Little-endian element bytes in C order, exactly as the graph produced them.
        public let bytes: [UInt8]

        public init(info: TensorInfo, bytes: [UInt8]) {
            self.info = info
            self.bytes = bytes
        }

        /// The values when the tensor is FLOAT32, else nil.
        public var floats: [Float]? {
            guard info.type == .float32 else { return nil }
            return bytes.withUnsafeBytes { raw in
                (0..<info.elementCount).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
            }
        }
    }

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let model: TFLiteModel
    public let options: Options
    public let inputs: [TensorInfo]
    public let outputs: [TensorInfo]
    /// Bytes of the activation arena (all intermediate tensors, inputs and outputs share it).
    public let peakArenaBytes: Int
    /// Bytes of constants held after folding (weights, folded tensors).
    public var constantBytes: Int { plan.memory.totalBytes }

    let plan: ExecutionPlan
    private let arena: UnsafeMutableRawPointer
    private let kernels: [OperatorDispatch.Kernel]
    /// The operator name of each kernel `invoke()` runs, in order (for profiling).
    public let kernelOperatorNames: [String]
    /// The model's operator indices each kernel runs (several for a fused chain), as `inspect` lists them.
    public let kernelOperatorIndices: [[Int]]
    /// The chains the graph has (positions in the runtime operator list), fused or not.
    let convolutionChains: [ConvolutionChain]
    /// The residual ADDs the graph has (positions in the runtime operator list), fused or not.
    let residualAdds: [ResidualAdd]
    /// Activations that get no arena bytes: those only a fused chain's own operators touch.
    var tensorsKeptInFusedKernels: [Int] { plan.activationsOutsideArena }

    public init(model: TFLiteModel, options: Options = Options()) throws {
        self.model = model
        self.options = options
        var plan: ExecutionPlan
        do {
            plan = try ExecutionPlan(model: model, weightPrecision: options.weightPrecision,
                                     maxArenaBytes: options.maxArenaBytes)
        } catch let failure as ExecutionPlan.Failure {
            throw Error(description: "model \(model.fileName): \(failure.message)")
        }
        let graph = model.mainSubgraph

        /// Each runtime operator's tensors, activations at `arena` + their planned offset (nil for an
        /// operator whose custom options do not parse, reported in `problems`).
        func bindings(_ plan: ExecutionPlan, arena: UnsafeMutableRawPointer) -> (bindings: [OperatorBinding?], problems: [String]) {
            func bound(_ i: Int) -> BoundTensor? {
                let t = plan.tensors[i]
                let data: UnsafeMutableRawPointer
                var float16 = false
                switch t.storage {
                case .none: return nil
                case let .constant(p): data = p
                case let .float16Weights(p): data = p; float16 = true
                case let .arena(offset): data = arena + offset
                }
                return BoundTensor(index: i, shape: t.shape, type: t.type, quantization: t.quantization, data: data,
                                   holdsFloat16Weights: float16)
            }
            var result: [OperatorBinding?] = [], problems: [String] = []
            for opIndex in plan.runtimeOperators {
                let op = graph.operators[opIndex]
                let name = model.code(of: op).name
                var custom: FlexBufferMap?
                if !op.customOptions.isEmpty {
                    do {
                        custom = try FlexBufferMap(model.bytes[op.customOptions])
                    } catch {
                        problems.append("operator \(opIndex) (\(name)): custom options: \(error)")
                        result.append(nil)
                        continue
                    }
                }
                result.append(OperatorBinding(op: op, name: name, inputs: op.inputs.map { $0 < 0 ? nil : bound($0) },
                                              outputs: op.outputs.compactMap(bound), customOptions: custom))
            }
            return (result, problems)
        }

        // Which chains run fused is decided first, on a draft of the arena laid out operator by operator
        // (its addresses are never touched), so that the real layout can leave out the tensors the fused
        // kernels keep in their own scratch.
        let draftArena = UnsafeMutableRawPointer.allocate(byteCount: max(plan.arenaBytes, 1), alignment: 64)
        defer { draftArena.deallocate() }
        let draft = bindings(plan, arena: draftArena).bindings
        let chains = ConvolutionChain.find(in: draft, graphOutputs: Set(graph.outputs))
        let residualAdds = ResidualAdd.find(in: draft, graphOutputs: Set(graph.outputs))
        // Fused kernels by their first position.
        var fused: [Int: FusedSpan] = [:]
        if options.kernels == .optimized && options.fusesConvolutionChains {
            let addAfter = Dictionary(uniqueKeysWithValues: residualAdds.map { ($0.convolution, $0) })
            // The whole chain, else its depthwise and project alone (the expand then runs by itself); either
            // with the residual ADD after the project when there is one.
            func span(for whole: ConvolutionChain) -> FusedSpan? {
                let pair = ConvolutionChain(expand: nil, depthwise: whole.depthwise, project: whole.project)
                for chain in whole.expand != nil && whole.project != nil ? [whole, pair] : [whole] {
                    let residualAdd = chain.project.flatMap { addAfter[$0] }
                    var stages = OperatorDispatch.ChainBindings(expand: chain.expand.flatMap { draft[$0] },
                                                                depthwise: draft[chain.depthwise]!,
                                                                project: chain.project.flatMap { draft[$0] })
                    stages.residualAdd = residualAdd.flatMap { draft[$0.add] }
                    if let bind = OperatorDispatch.fusedChainKernel(stages, threads: options.threads) {
                        let last = residualAdd?.add ?? chain.positions.upperBound
                        return FusedSpan(positions: chain.positions.lowerBound...last,
                                         name: chain.name + (residualAdd == nil ? "" : "+ADD"),
                                         residualAdd: residualAdd, bind: bind)
                    }
                }
                return nil
            }
            for chain in chains {
                if let span = span(for: chain) { fused[span.positions.lowerBound] = span }
            }
            let covered = Set(fused.values.flatMap(\.positions))
            for residualAdd in residualAdds where !covered.contains(residualAdd.convolution) {
                if let bind = OperatorDispatch.fusedResidualAddKernel(convolution: draft[residualAdd.convolution]!,
                                                                      add: draft[residualAdd.add]!,
                                                                      threads: options.threads) {
                    fused[residualAdd.convolution] = FusedSpan(positions: residualAdd.convolution...residualAdd.add,
                                                               name: "CONV_2D+ADD", residualAdd: residualAdd, bind: bind)
                }
            }
        }
        do {
            try plan.placeActivations(fusing: fused.values.map(\.positions))
        } catch let failure as ExecutionPlan.Failure {
            throw Error(description: "model \(model.fileName): \(failure.message)")
        }
        self.plan = plan
        self.peakArenaBytes = plan.arenaBytes
        let arena = UnsafeMutableRawPointer.allocate(byteCount: max(plan.arenaBytes, 1), alignment: 64)
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(plan.arenaBytes, 1))
        self.arena = arena

        let made = bindings(plan, arena: arena)
        let bound = made.bindings
        var problems = made.problems
        var kernels: [OperatorDispatch.Kernel] = []
        var kernelOperatorNames: [String] = []
        var kernelOperatorIndices: [[Int]] = []
        var position = 0
        while position < bound.count {
            defer { position += 1 }
            guard let binding = bound[position] else { continue }
            if let span = fused[position] {
                // The layout gives a fused kernel's input, residual and output their own bytes (all live in
                // its step); anything else would be a planner bug that corrupts outputs, so refuse it.
                let residual = span.residualAdd.flatMap { bound[$0.add]?.inputs[$0.residualInput] }
                guard let x = binding.inputs.first ?? nil, let y = bound[span.positions.upperBound]?.outputs.first,
                      !x.sharesBytes(with: y), !(residual?.sharesBytes(with: y) ?? false) else {
                    problems.append("operator \(binding.op.index) (\(span.name)): the memory plan overlaps the "
                        + "fused kernel's inputs and output")
                    position = span.positions.upperBound
                    continue
                }
                kernels.append(span.bind(x.data, y.data, residual?.data))
                kernelOperatorNames.append(span.name)
                kernelOperatorIndices.append(span.positions.compactMap { bound[$0]?.op.index })
                position = span.positions.upperBound
                continue
            }
            do {
                kernels.append(try OperatorDispatch.kernel(for: binding, threads: options.threads,
                                                           optimized: options.kernels == .optimized))
                kernelOperatorNames.append(binding.name)
                kernelOperatorIndices.append([binding.op.index])
            } catch let error as KernelError {
                problems.append("operator \(binding.op.index) (\(binding.name)): \(error.message)")
            }
        }
        if !problems.isEmpty {
            arena.deallocate()
            let shown = problems.prefix(8).joined(separator: "; ")
            let more = problems.count > 8 ? " (and \(problems.count - 8) more)" : ""
            throw Error(description: "model \(model.fileName): cannot run \(problems.count) operator(s): \(shown)\(more)")
        }
        self.kernels = kernels
        self.kernelOperatorNames = kernelOperatorNames
        self.kernelOperatorIndices = kernelOperatorIndices
        convolutionChains = chains
        self.residualAdds = residualAdds

        func info(_ i: Int) -> TensorInfo {
            TensorInfo(tensorIndex: i, name: graph.tensors[i].name, shape: plan.tensors[i].shape,
                       type: plan.tensors[i].type, quantization: plan.tensors[i].quantization)
        }
        self.inputs = graph.inputs.map(info)
        self.outputs = graph.outputs.map(info)
    }

    deinit { arena.deallocate() }

    private func inputPointer(_ index: Int, byteCount: Int, type: TFLiteModel.TensorType?) throws -> UnsafeMutableRawPointer {
        guard index >= 0 && index < inputs.count else {
            throw Error(description: "input \(index) does not exist (the model has \(inputs.count))")
        }
        let info = inputs[index]
        if let type, type != info.type {
            throw Error(description: "input \(index) '\(info.name)' is \(info.type.name), was given \(type.name)")
        }
        guard byteCount == info.byteCount else {
            throw Error(description: "input \(index) '\(info.name)' \(info.shape) \(info.type.name) needs "
                + "\(info.byteCount) bytes, was given \(byteCount)")
        }
        guard case let .arena(offset) = plan.tensors[info.tensorIndex].storage else {
            throw Error(description: "input \(index) '\(info.name)' is not used by the graph")
        }
        return arena + offset
    }

    /// Copies raw little-endian bytes into input `index` (any type; the size must match exactly).
    public func setInput(_ index: Int, bytes: [UInt8]) throws {
        let p = try inputPointer(index, byteCount: bytes.count, type: nil)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Sets a FLOAT32 input.
    public func setInput(_ index: Int, floats: [Float]) throws {
        let p = try inputPointer(index, byteCount: floats.count * 4, type: .float32)
        floats.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Sets a UINT8 input.
    public func setInput(_ index: Int, uint8 values: [UInt8]) throws {
        let p = try inputPointer(index, byteCount: values.count, type: .uint8)
        values.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Sets an INT8 input.
    public func setInput(_ index: Int, int8 values: [Int8]) throws {
        let p = try inputPointer(index, byteCount: values.count, type: .int8)
        values.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Runs every operator once.
    public func invoke() throws {
        for kernel in kernels { try kernel() }
    }

    /// `invoke()` that also adds each kernel's wall time (ns) to `nanoseconds[i]` (sized like
    /// `kernelOperatorNames`).
    public func invokeProfiled(into nanoseconds: inout [UInt64]) throws {
        precondition(nanoseconds.count == kernels.count, "one slot per kernel")
        for (i, kernel) in kernels.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            try kernel()
            nanoseconds[i] += DispatchTime.now().uptimeNanoseconds - start
        }
    }

    /// Runs kernel `i` alone again. Its inputs are whatever the last `invoke()` left in the arena, so
    /// repeating it recomputes the same outputs: this lets a profiler measure one operator for long
    /// enough to read an energy counter.
    public func rerunKernel(_ i: Int) throws {
        try kernels[i]()
    }

    /// A copy of output `index` after `invoke()`.
    public func output(_ index: Int) -> TensorValue {
        let info = outputs[index]
        let pointer: UnsafeRawPointer
        switch plan.tensors[info.tensorIndex].storage {
        case let .arena(offset): pointer = UnsafeRawPointer(arena + offset)
        case let .constant(p), let .float16Weights(p): pointer = UnsafeRawPointer(p)
        case .none: return TensorValue(info: info, bytes: [UInt8](repeating: 0, count: info.byteCount))
        }
        return TensorValue(info: info, bytes: [UInt8](UnsafeRawBufferPointer(start: pointer, count: info.byteCount)))
    }

    /// Number of operators run per invocation and folded at load.
    public var operatorCounts: (runtime: Int, folded: Int) { (plan.runtimeOperators.count, plan.foldedOperators.count) }
}

/// Runtime operators one fused kernel runs: a convolution chain, with the residual ADD after it or not,
/// or a 1x1 convolution and its residual ADD.
private struct FusedSpan {
    let positions: ClosedRange<Int>
    /// The operator names joined with "+", as profiles show the kernel.
    let name: String
    let residualAdd: ResidualAdd?
    let bind: OperatorDispatch.FusedKernelBinder
}
