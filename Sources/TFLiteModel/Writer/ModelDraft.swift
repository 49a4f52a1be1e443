/// An editable copy of a model's main subgraph: tensors own their constant bytes, so passes can
/// change types, data and wiring and then write a new .tflite with `ModelDraft.serialized()`.
public struct ModelDraft: Sendable {
    public struct Tensor: Sendable {
        public var name: String
        public var shape: [Int]
        public var shapeSignature: [Int]?
        public var type: TFLiteModel.TensorType
        /// Constant contents; nil for activations and inputs.
        public var data: [UInt8]?
        public var quantization: TFLiteModel.Quantization?
        public var isVariable: Bool

        public init(name: String, shape: [Int], shapeSignature: [Int]? = nil, type: TFLiteModel.TensorType,
                    data: [UInt8]? = nil, quantization: TFLiteModel.Quantization? = nil, isVariable: Bool = false) {
            self.name = name; self.shape = shape; self.shapeSignature = shapeSignature; self.type = type
            self.data = data; self.quantization = quantization; self.isVariable = isVariable
        }

        public var elementCount: Int { shape.reduce(1, *) }
    }

    public struct Operator: Sendable {
        /// Builtin operator number (schema `BuiltinOperator`), 32 for custom ops.
        public var builtinCode: Int32
        public var customCode: String?
        public var version: Int32
        /// Tensor indices; -1 marks an omitted optional input.
        public var inputs: [Int]
        public var outputs: [Int]
        public var intermediates: [Int]
        public var options: TFLiteModel.BuiltinOptions
        public var customOptions: [UInt8]

        public init(builtinCode: Int32, customCode: String? = nil, version: Int32 = 1, inputs: [Int], outputs: [Int],
                    intermediates: [Int] = [], options: TFLiteModel.BuiltinOptions = .none, customOptions: [UInt8] = []) {
            self.builtinCode = builtinCode; self.customCode = customCode; self.version = version
            self.inputs = inputs; self.outputs = outputs; self.intermediates = intermediates
            self.options = options; self.customOptions = customOptions
        }

        /// The builtin name (CONV_2D) or the custom op's name.
        public var name: String {
            builtinCode == TFLiteModel.OperatorCode.customBuiltinCode ? (customCode ?? "CUSTOM")
                : BuiltinOperatorNames.name(of: builtinCode)
        }
    }

    public struct Metadata: Sendable {
        public var name: String
        public var bytes: [UInt8]
        public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
    }

    public var description: String
    public var subgraphName: String
    public var tensors: [Tensor]
    public var operators: [Operator]
    public var inputs: [Int]
    public var outputs: [Int]
    public var metadata: [Metadata]

    public init(description: String, subgraphName: String = "main", tensors: [Tensor], operators: [Operator],
                inputs: [Int], outputs: [Int], metadata: [Metadata] = []) {
        self.description = description; self.subgraphName = subgraphName; self.tensors = tensors
        self.operators = operators; self.inputs = inputs; self.outputs = outputs; self.metadata = metadata
    }

    public struct UnsupportedModel: Error, CustomStringConvertible, Sendable {
        public let file: String
        public let reason: String
        public var description: String { "model \(file): cannot be rewritten: \(reason)" }
    }

    /// Copies `model`'s first subgraph. Throws for what the writer cannot reproduce faithfully: more than
    /// one subgraph, or builtin options this project does not decode that carry non-default fields.
    public init(_ model: TFLiteModel) throws {
        guard model.subgraphs.count == 1 else {
            throw UnsupportedModel(file: model.fileName, reason: "it has \(model.subgraphs.count) subgraphs (only 1 is supported)")
        }
        let graph = model.mainSubgraph
        description = model.description
        subgraphName = graph.name
        tensors = graph.tensors.map { tensor in
            Tensor(name: tensor.name, shape: tensor.shape, shapeSignature: tensor.shapeSignature, type: tensor.type,
                   data: model.constantData(of: tensor).map(Array.init), quantization: tensor.quantization,
                   isVariable: tensor.isVariable)
        }
        operators = try graph.operators.map { op in
            let code = model.code(of: op)
            if case .unparsed(let unionType) = op.builtinOptions,
               try !ModelDraft.optionsTableIsEmpty(model: model, operatorIndex: op.index) {
                throw UnsupportedModel(file: model.fileName, reason: "operator \(op.index) (\(code.name)) has builtin "
                    + "options (union type \(unionType)) with fields this project does not decode")
            }
            return Operator(builtinCode: code.builtinCode, customCode: code.customCode, version: code.version,
                            inputs: op.inputs, outputs: op.outputs, intermediates: op.intermediates,
                            options: op.builtinOptions, customOptions: Array(model.bytes[op.customOptions]))
        }
        inputs = graph.inputs
        outputs = graph.outputs
        metadata = model.metadata.map { entry in
            Metadata(name: entry.name, bytes: Array(model.bytes[model.buffers[entry.bufferIndex].range]))
        }
    }

    /// True when operator `operatorIndex`'s options table sets no field (PadOptions, DequantizeOptions, ...),
    /// so writing an empty table of the same union type reproduces it.
    private static func optionsTableIsEmpty(model: TFLiteModel, operatorIndex: Int) throws -> Bool {
        let reader = FlatBufferReader(model.bytes)
        let subgraph = try reader.rootTable().tableVector(2, "subgraphs")[0]
        let op = try subgraph.tableVector(3, "operators")[operatorIndex]
        guard let options = try op.table(4, "builtin options") else { return true }
        let slots = (options.vtableSize - 4) / 2
        return try (0..<slots).allSatisfy { try options.fieldPosition($0, size: 0) == nil }
    }

    /// Appends a tensor and returns its index.
    @discardableResult
    public mutating func append(_ tensor: Tensor) -> Int {
        tensors.append(tensor)
        return tensors.count - 1
    }

    /// Indices of the operators reading each tensor.
    public func consumers() -> [Int: [Int]] {
        var result: [Int: [Int]] = [:]
        for (opIndex, op) in operators.enumerated() {
            for input in op.inputs where input >= 0 { result[input, default: []].append(opIndex) }
        }
        return result
    }

    /// Drops tensors no operator, input, output or intermediate refers to, renumbering the rest.
    public mutating func removeUnusedTensors() {
        var used = Set(inputs + outputs)
        for op in operators { used.formUnion(op.inputs.filter { $0 >= 0 } + op.outputs + op.intermediates) }
        var newIndex = [Int](repeating: -1, count: tensors.count)
        var kept: [Tensor] = []
        for (index, tensor) in tensors.enumerated() where used.contains(index) {
            newIndex[index] = kept.count
            kept.append(tensor)
        }
        func renumber(_ i: Int) -> Int { i < 0 ? i : newIndex[i] }
        tensors = kept
        inputs = inputs.map(renumber)
        outputs = outputs.map(renumber)
        for i in operators.indices {
            operators[i].inputs = operators[i].inputs.map(renumber)
            operators[i].outputs = operators[i].outputs.map(renumber)
            operators[i].intermediates = operators[i].intermediates.map(renumber)
        }
    }
}
