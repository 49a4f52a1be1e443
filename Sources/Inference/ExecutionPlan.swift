import TFLiteModel

/// The once-per-model work before any invocation: output shapes of every operator, constant folding
/// (operators whose inputs are all constant run once here, e.g. DEQUANTIZE of float16 weights, SHAPE
/// and the integer ops that compute shapes from it), and the arena layout of the remaining tensors
/// from their lifetimes.
struct ExecutionPlan {
    enum Storage {
        /// Neither constant nor touched by any operator that runs.
        case none
        /// Constant (from the file, or folded), in `memory`.
        case constant(UnsafeMutableRawPointer)
        /// Float16 weights kept as they are for the float16-on-the-fly mode (the tensor is FLOAT32 in
        /// the graph, the output of a DEQUANTIZE).
        case float16Weights(UnsafeMutableRawPointer)
        /// An activation at this offset of the arena.
        case arena(offset: Int)
    }

    struct TensorState {
        var shape: [Int]
        let type: TFLiteModel.TensorType
        let quantization: TFLiteModel.Quantization?
        var storage: Storage

        var byteCount: Int { shape.reduce(1, *) * (type.byteSize ?? 0) }
    }

    private(set) var tensors: [TensorState]
    /// Operators that run at each invocation, in order.
    let runtimeOperators: [Int]
    /// Operators evaluated once while planning.
    let foldedOperators: [Int]
    private(set) var arenaBytes: Int
    let memory: TensorMemory
    /// The non-constant tensors each runtime operator reads or writes, by position in `runtimeOperators`.
    private let activationsOfOperator: [[Int]]
    /// Graph inputs and outputs that are not constant: they live for the whole invocation.
    private let graphEnds: [Int]
    private let maxArenaBytes: Int

    struct Failure: Error {
        let message: String
    }

    /// `keepFoldedIntermediates` keeps constants that only folded operators read (for tests that check
    /// every folded value); normally they are freed after planning.
    init(model: TFLiteModel, weightPrecision: Interpreter.WeightPrecision,
         maxArenaBytes: Int = Interpreter.Options.defaultMaxArenaBytes,
         keepFoldedIntermediates: Bool = false) throws {
        let graph = model.mainSubgraph
        let memory = TensorMemory()
        var tensors = graph.tensors.map {
            TensorState(shape: $0.shape, type: $0.type, quantization: $0.quantization, storage: .none)
        }
        func fail(_ op: TFLiteModel.Operator, _ message: String) -> Failure {
            Failure(message: "operator \(op.index) (\(model.code(of: op).name)): \(message)")
        }

        // Constants are copied into aligned memory the first time an operator needs them.
        func materializeConstant(_ i: Int) {
            guard case .none = tensors[i].storage, let data = model.constantData(of: graph.tensors[i]) else { return }
            tensors[i].storage = .constant(memory.copy(data))
        }
        func isKnown(_ i: Int) -> Bool {
            materializeConstant(i)
            switch tensors[i].storage {
            case .constant, .float16Weights: return true
            default: return false
            }
        }
        /// Turns float16 weights into float32 for a consumer that cannot read them directly.
        func widenFloat16(_ i: Int) {
            guard case let .float16Weights(pointer) = tensors[i].storage else { return }
            let count = tensors[i].shape.reduce(1, *)
            let widened = memory.allocate(byteCount: count * 4)
            FloatKernels.dequantize(float16: pointer, output: widened.assumingMemoryBound(to: Float.self), count: count)
            tensors[i].storage = .constant(widened)
        }
        func boundTensor(_ i: Int) -> BoundTensor? {
            let t = tensors[i]
            switch t.storage {
            case let .constant(p):
                return BoundTensor(index: i, shape: t.shape, type: t.type, quantization: t.quantization, data: p,
                                   holdsFloat16Weights: false)
            case let .float16Weights(p):
                return BoundTensor(index: i, shape: t.shape, type: t.type, quantization: t.quantization, data: p,
                                   holdsFloat16Weights: true)
            default:
                return nil
            }
        }
        func intValues(_ i: Int) -> [Int]? {
            guard isKnown(i), let t = boundTensor(i), t.type == .int32 || t.type == .int64 else { return nil }
            return try? OperatorDispatch.intValues(t)
        }

        let shapeOnlyStandIn = memory.allocate(byteCount: 64)
        defer { memory.release(shapeOnlyStandIn) }
        var runtime: [Int] = []
        var folded: [Int] = []
        for op in graph.operators {
            let code = model.code(of: op)
            let name = code.name
            var custom: FlexBufferMap?
            if !op.customOptions.isEmpty {
                custom = try? FlexBufferMap(model.bytes[op.customOptions])
            }
            // Only convolution filters and biases read float16 weights directly.
            let readsFloat16 = (name == "CONV_2D" || name == "DEPTHWISE_CONV_2D")
            for (position, i) in op.inputs.enumerated() where i >= 0 && !(readsFloat16 && position >= 1) {
                widenFloat16(i)
            }
            let shapeInputs = op.inputs.map { i -> ShapeInference.Input? in
                guard i >= 0 else { return nil }
                return ShapeInference.Input(shape: tensors[i].shape, type: tensors[i].type, intValues: intValues(i))
            }
            let shapes: [[Int]]
            do {
                shapes = try ShapeInference.outputShapes(
                    opName: name, options: op.builtinOptions, inputs: shapeInputs,
                    declared: op.outputs.map { graph.tensors[$0].shape }, customOptions: custom)
            } catch let failure as ShapeInference.Failure {
                throw fail(op, failure.message)
            }
            guard shapes.count == op.outputs.count else {
                throw fail(op, "has \(op.outputs.count) outputs, expected \(shapes.count)")
            }
            for (i, shape) in zip(op.outputs, shapes) {
                if model.constantData(of: graph.tensors[i]) != nil {
                    throw fail(op, "writes tensor \(i), which is a constant")
                }
                // A corrupt or hostile file must not make us try to allocate absurd tensors.
                var bytes = tensors[i].type.byteSize ?? 1
                for dim in shape {
                    let (product, overflow) = bytes.multipliedReportingOverflow(by: dim)
                    guard !overflow, dim >= 0, product <= maxArenaBytes else {
                        throw fail(op, "output tensor \(i) would have shape \(shape), over the "
                            + "\(maxArenaBytes)-byte arena limit")
                    }
                    bytes = product
                }
                tensors[i].shape = shape
            }

            // SHAPE reads only its input's (static) shape, so it always folds: its input becomes a
            // stand-in with no data, which the SHAPE kernel never dereferences.
            let readsOnlyShapes = name == "SHAPE"
            let inputsKnown = readsOnlyShapes || op.inputs.allSatisfy { $0 < 0 || isKnown($0) }
            let keepFloat16 = weightPrecision == .float16OnTheFly && name == "DEQUANTIZE"
                && op.inputs.first.map { graph.tensors[$0].type == .float16 } == true
            if inputsKnown && keepFloat16, case let .constant(pointer) = tensors[op.inputs[0]].storage {
                tensors[op.outputs[0]].storage = .float16Weights(pointer)
                folded.append(op.index)
                continue
            }
            if inputsKnown && !graph.outputs.contains(where: op.outputs.contains) {
                // Evaluate now, once, into constant memory (when a kernel exists; otherwise it runs later
                // and is reported there).
                var outputs: [BoundTensor] = []
                for i in op.outputs {
                    let t = tensors[i]
                    outputs.append(BoundTensor(index: i, shape: t.shape, type: t.type, quantization: t.quantization,
                                               data: memory.allocate(byteCount: t.byteCount),
                                               holdsFloat16Weights: false))
                }
                let inputs = op.inputs.map { i -> BoundTensor? in
                    guard i >= 0 else { return nil }
                    if readsOnlyShapes {
                        let t = tensors[i]
                        return BoundTensor(index: i, shape: t.shape, type: t.type, quantization: t.quantization,
                                           data: shapeOnlyStandIn, holdsFloat16Weights: false)
                    }
                    return boundTensor(i)
                }
                let binding = OperatorBinding(op: op, name: name, inputs: inputs, outputs: outputs,
                                              customOptions: custom)
                if let kernel = try? OperatorDispatch.kernel(for: binding), (try? kernel()) != nil {
                    for (i, t) in zip(op.outputs, outputs) { tensors[i].storage = .constant(t.data) }
                    folded.append(op.index)
                    continue
                }
                for t in outputs { memory.release(t.data) }
            }
            runtime.append(op.index)
        }

        // Constants only the folded operators read are no longer needed.
        var stillUsed = Set(graph.outputs)
        for opIndex in runtime { stillUsed.formUnion(graph.operators[opIndex].inputs.filter { $0 >= 0 }) }
        for (i, t) in tensors.enumerated() where !stillUsed.contains(i) && !keepFoldedIntermediates {
            if case let .constant(p) = t.storage, !isFloat16Source(p, of: tensors) {
                memory.release(p)
                tensors[i].storage = .none
            }
        }

        self.tensors = tensors
        self.runtimeOperators = runtime
        self.foldedOperators = folded
        self.arenaBytes = 0
        self.memory = memory
        self.maxArenaBytes = maxArenaBytes
        activationsOfOperator = runtime.map { opIndex in
            let op = graph.operators[opIndex]
            return (op.inputs + op.outputs).filter { $0 >= 0 && !isConstant(tensors[$0]) }
        }
        graphEnds = (graph.inputs + graph.outputs).filter { !isConstant(tensors[$0]) }
        try placeActivations(fusing: [])
    }

    /// Activations (tensors some runtime operator reads or writes, not constant) without arena bytes: after
    /// `placeActivations(fusing:)`, those only a fused kernel's own operators touch.
    var activationsOutsideArena: [Int] {
        Set(activationsOfOperator.joined()).filter { i in
            if case .none = tensors[i].storage { return true }
            return false
        }.sorted()
    }

    /// Lays the activations out in the arena for kernels that each run one runtime operator, except the
    /// `fusing` ranges of positions in `runtimeOperators`, each run by one kernel (a fused chain). Such a
    /// kernel reads its input while it writes its output, so both live for its whole step and never
    /// share bytes; the tensors only its own operators touch stay in the kernel's scratch and get no
    /// arena bytes at all (`.none`). Called again, it replaces the previous layout.
    mutating func placeActivations(fusing spans: [ClosedRange<Int>]) throws {
        // The kernel step of each runtime operator.
        var stepOf = [Int](repeating: 0, count: runtimeOperators.count)
        var spanOf = [Int?](repeating: nil, count: runtimeOperators.count)
        for (n, span) in spans.enumerated() {
            precondition(span.lowerBound >= 0 && span.upperBound < runtimeOperators.count, "span inside the operators")
            for position in span {
                precondition(spanOf[position] == nil, "fused spans do not overlap")
                spanOf[position] = n
            }
        }
        var steps = 0
        for position in stepOf.indices {
            if position > 0, let span = spanOf[position], spanOf[position - 1] == span {
                stepOf[position] = steps - 1
            } else {
                stepOf[position] = steps
                steps += 1
            }
        }
        // Lifetimes in kernel steps; a tensor touched only inside one span is that kernel's own.
        var first: [Int: Int] = [:], last: [Int: Int] = [:]
        var insideSpan: [Int: Int] = [:], outsideSpans = Set(graphEnds)
        for (position, activations) in activationsOfOperator.enumerated() {
            for i in activations {
                first[i] = min(first[i] ?? stepOf[position], stepOf[position])
                last[i] = max(last[i] ?? stepOf[position], stepOf[position])
                if let span = spanOf[position], insideSpan[i, default: span] == span {
                    insideSpan[i] = span
                } else {
                    outsideSpans.insert(i)
                }
            }
        }
        // Graph inputs and outputs live for the whole invocation, so an input set once can be invoked
        // repeatedly and outputs stay readable.
        for i in graphEnds {
            first[i] = 0
            last[i] = max(steps - 1, 0)
        }
        let requests = first.keys.sorted().filter { outsideSpans.contains($0) }.map {
            MemoryPlanner.Request(tensorIndex: $0, byteCount: tensors[$0].byteCount, firstStep: first[$0]!,
                                  lastStep: last[$0]!)
        }
        let (offsets, arenaBytes) = MemoryPlanner.plan(requests)
        guard arenaBytes <= maxArenaBytes else {
            throw Failure(message: "the activations need \(arenaBytes) bytes, over the \(maxArenaBytes)-byte limit")
        }
        for i in tensors.indices {
            if case .arena = tensors[i].storage { tensors[i].storage = .none }
        }
        for (i, offset) in offsets { tensors[i].storage = .arena(offset: offset) }
        self.arenaBytes = arenaBytes
    }
}

private func isConstant(_ t: ExecutionPlan.TensorState) -> Bool {
    switch t.storage {
    case .constant, .float16Weights: return true
    default: return false
    }
}

/// True when `pointer` also backs a float16-weights tensor (which aliases its DEQUANTIZE input).
private func isFloat16Source(_ pointer: UnsafeMutableRawPointer, of tensors: [ExecutionPlan.TensorState]) -> Bool {
    tensors.contains {
        if case let .float16Weights(p) = $0.storage { return p == pointer }
        return false
    }
}
