import TFLiteModel

/// What `ssd-energy inspect` reports about a model: operators, tensors, quantization, MACs, weight
/// bytes and the planned activation arena. Works for every model the reader loads, including those
/// whose kernels are not available (then `runnable` says why).
public struct ModelInspection: Codable, Sendable {
    public struct OperatorSummary: Codable, Sendable {
        public let index: Int
        public let name: String
        public let inputs: [Int]
        public let outputs: [Int]
        /// Multiply-accumulates of one invocation (convolutions and fully connected layers; 0 otherwise).
        public let macs: Int
        /// True when it runs once at load (all inputs constant), not at each invocation.
        public let folded: Bool
    }

    public struct QuantizationSummary: Codable, Sendable {
        /// "per-tensor" or "per-channel".
        public let granularity: String
        public let channels: Int
        public let quantizedDimension: Int
        public let minScale: Float
        public let maxScale: Float
        public let minZeroPoint: Int64
        public let maxZeroPoint: Int64
    }

    public struct TensorSummary: Codable, Sendable {
        public let index: Int
        public let name: String
        public let shape: [Int]
        public let type: String
        public let isConstant: Bool
        public let bytes: Int
        public let quantization: QuantizationSummary?
    }

    public let file: String
    public let description: String
    public let operatorCounts: [String: Int]
    public let operators: [OperatorSummary]
    public let tensors: [TensorSummary]
    public let inputs: [Int]
    public let outputs: [Int]
    public let totalMACs: Int
    public let macsByOperator: [String: Int]
    /// Bytes of constant tensors, by element type (FLOAT32, FLOAT16, INT8, INT32, ...).
    public let weightBytesByType: [String: Int]
    public let weightBytes: Int
    /// Activation arena as the default interpreter lays it out (float32 weights, fused chains' inner
    /// tensors in the chains' own scratch), or operator by operator when the interpreter cannot run the
    /// model; nil when planning failed (see `planError`).
    public let plannedArenaBytes: Int?
    public let planError: String?
    /// nil when the interpreter can run the model, else why not.
    public let notRunnableBecause: String?

    public init(model: TFLiteModel) {
        let graph = model.mainSubgraph
        file = model.fileName
        description = model.description
        var plan: ExecutionPlan?
        do {
            plan = try ExecutionPlan(model: model, weightPrecision: .float32)
            planError = nil
        } catch let failure as ExecutionPlan.Failure {
            planError = failure.message
        } catch {
            planError = "\(error)"
        }
        let folded = Set(plan?.foldedOperators ?? [])
        // Shapes after shape inference when planning succeeded (files may leave some unset).
        func shape(_ i: Int) -> [Int] { plan?.tensors[i].shape ?? graph.tensors[i].shape }

        var counts: [String: Int] = [:]
        var macsByOperator: [String: Int] = [:]
        operators = graph.operators.map { op in
            let name = model.code(of: op).name
            counts[name, default: 0] += 1
            var macs = 0
            if let outputIndex = op.outputs.first, op.inputs.count > 1, op.inputs[1] >= 0 {
                let y = shape(outputIndex), w = shape(op.inputs[1])
                switch name {
                case "CONV_2D" where y.count == 4 && w.count == 4:
                    macs = y.reduce(1, *) * w[1] * w[2] * w[3]
                case "DEPTHWISE_CONV_2D" where y.count == 4 && w.count == 4:
                    macs = y.reduce(1, *) * w[1] * w[2]
                case "FULLY_CONNECTED" where w.count == 2:
                    macs = y.reduce(1, *) * w[1]
                default:
                    break
                }
            }
            macsByOperator[name, default: 0] += macs
            return OperatorSummary(index: op.index, name: name, inputs: op.inputs, outputs: op.outputs, macs: macs,
                                   folded: folded.contains(op.index))
        }
        operatorCounts = counts
        self.macsByOperator = macsByOperator.filter { $0.value > 0 }
        totalMACs = operators.reduce(0) { $0 + $1.macs }

        var weightBytesByType: [String: Int] = [:]
        var seenBuffers = Set<Int>()
        tensors = graph.tensors.map { t in
            let constantBytes = model.buffers[t.bufferIndex].range.count
            if constantBytes > 0 && seenBuffers.insert(t.bufferIndex).inserted {
                weightBytesByType[t.type.name, default: 0] += constantBytes
            }
            let q = t.quantization.flatMap { q -> QuantizationSummary? in
                guard q.isAffine else { return nil }
                return QuantizationSummary(
                    granularity: q.isPerChannel ? "per-channel" : "per-tensor", channels: q.scales.count,
                    quantizedDimension: q.quantizedDimension, minScale: q.scales.min()!, maxScale: q.scales.max()!,
                    minZeroPoint: q.zeroPoints.min() ?? 0, maxZeroPoint: q.zeroPoints.max() ?? 0)
            }
            return TensorSummary(index: t.index, name: t.name, shape: shape(t.index), type: t.type.name,
                                 isConstant: constantBytes > 0,
                                 bytes: constantBytes > 0 ? constantBytes : shape(t.index).reduce(1, *) * (t.type.byteSize ?? 0),
                                 quantization: q)
        }
        self.weightBytesByType = weightBytesByType
        weightBytes = weightBytesByType.values.reduce(0, +)
        inputs = graph.inputs
        outputs = graph.outputs
        do {
            plannedArenaBytes = try Interpreter(model: model).peakArenaBytes
            notRunnableBecause = nil
        } catch {
            plannedArenaBytes = plan?.arenaBytes
            notRunnableBecause = "\(error)"
        }
    }
}
