/// Serializes a `ModelDraft` as a schema-v3 TFLite flatbuffer (file identifier "TFL3").
extension ModelDraft {
    /// Constant data starts on 16-byte boundaries, as the TFLite converter writes it, so kernels may
    /// read it in place with vector loads.
    static let bufferAlignment = 16

    public func serialized() throws -> [UInt8] {
        try validate()
        let constantBytes = tensors.reduce(0) { $0 + ($1.data?.count ?? 0) }
        var builder = FlatBufferBuilder(reservingCapacity: constantBytes + 64 * 1024)

        // Buffers: 0 is the empty sentinel, then one per constant tensor, then one per metadata entry.
        var bufferData: [[UInt8]] = [[]]
        var tensorBuffer = [UInt32](repeating: 0, count: tensors.count)
        for (index, tensor) in tensors.enumerated() {
            guard let data = tensor.data, !data.isEmpty else { continue }
            tensorBuffer[index] = UInt32(bufferData.count)
            bufferData.append(data)
        }
        let metadataBuffer = metadata.map { entry -> UInt32 in
            bufferData.append(entry.bytes)
            return UInt32(bufferData.count - 1)
        }
        // Written back to front: the last buffer's bytes first, so buffer 1 ends up earliest in the file.
        var bufferTables: [FlatBufferBuilder.Offset] = []
        for data in bufferData.reversed() {
            if data.isEmpty {
                bufferTables.append(builder.table([:]))
            } else {
                let bytes = builder.byteVector(data, alignment: Self.bufferAlignment)
                bufferTables.append(builder.table([0: .offset(bytes)]))
            }
        }
        let buffersVector = builder.offsetVector(bufferTables.reversed())

        // Operator codes, one per distinct (code, custom name, version).
        struct CodeKey: Hashable { let builtin: Int32; let custom: String?; let version: Int32 }
        var codeKeys: [CodeKey] = []
        var codeIndex: [CodeKey: Int] = [:]
        let opcodeIndices = operators.map { op -> Int in
            let key = CodeKey(builtin: op.builtinCode, custom: op.customCode, version: op.version)
            if let index = codeIndex[key] { return index }
            codeIndex[key] = codeKeys.count
            codeKeys.append(key)
            return codeKeys.count - 1
        }
        let codeTables = codeKeys.map { key -> FlatBufferBuilder.Offset in
            var fields: [Int: FlatBufferBuilder.Field] = [
                // Readers before builtin_code existed use the byte; it saturates at 127 (PLACEHOLDER_FOR_
                // GREATER_OP_CODES) for newer ops.
                0: .int8(Int8(min(key.builtin, 127))), 2: .int32(key.version), 3: .int32(key.builtin),
            ]
            if let custom = key.custom { fields[1] = .offset(builder.string(custom)) }
            return builder.table(fields)
        }
        let codesVector = builder.offsetVector(codeTables)

        let tensorTables = tensors.enumerated().map { index, tensor -> FlatBufferBuilder.Offset in
            var fields: [Int: FlatBufferBuilder.Field] = [
                0: .offset(builder.int32Vector(tensor.shape.map { Int32($0) })),
                1: .int8(tensor.type.rawValue),
                2: .uint32(tensorBuffer[index]),
                3: .offset(builder.string(tensor.name)),
                5: .bool(tensor.isVariable),
            ]
            if let q = tensor.quantization {
                var qFields: [Int: FlatBufferBuilder.Field] = [:]
                if !q.min.isEmpty { qFields[0] = .offset(builder.float32Vector(q.min)) }
                if !q.max.isEmpty { qFields[1] = .offset(builder.float32Vector(q.max)) }
                if !q.scales.isEmpty {
                    qFields[2] = .offset(builder.float32Vector(q.scales))
                    qFields[3] = .offset(builder.int64Vector(q.zeroPoints))
                }
                qFields[6] = .int32(Int32(q.quantizedDimension))
                fields[4] = .offset(builder.table(qFields))
            }
            if let signature = tensor.shapeSignature {
                fields[7] = .offset(builder.int32Vector(signature.map { Int32($0) }))
            }
            return builder.table(fields)
        }
        let tensorsVector = builder.offsetVector(tensorTables)

        let operatorTables = operators.enumerated().map { index, op -> FlatBufferBuilder.Offset in
            var fields: [Int: FlatBufferBuilder.Field] = [
                0: .uint32(UInt32(opcodeIndices[index])),
                1: .offset(builder.int32Vector(op.inputs.map { Int32($0) })),
                2: .offset(builder.int32Vector(op.outputs.map { Int32($0) })),
            ]
            if let (unionType, table) = op.options.encoded(into: &builder) {
                fields[3] = .uint8(unionType)
                fields[4] = .offset(table)
            }
            if !op.customOptions.isEmpty {
                fields[5] = .offset(builder.byteVector(op.customOptions))
                fields[6] = .int8(0)  // FLEXBUFFERS, the only format the schema defines
            }
            if !op.intermediates.isEmpty {
                fields[8] = .offset(builder.int32Vector(op.intermediates.map { Int32($0) }))
            }
            return builder.table(fields)
        }
        let operatorsVector = builder.offsetVector(operatorTables)

        let subgraph = builder.table([
            0: .offset(tensorsVector),
            1: .offset(builder.int32Vector(inputs.map { Int32($0) })),
            2: .offset(builder.int32Vector(outputs.map { Int32($0) })),
            3: .offset(operatorsVector),
            4: .offset(builder.string(subgraphName)),
        ])
        let subgraphsVector = builder.offsetVector([subgraph])

        let metadataTables = zip(metadata, metadataBuffer).map { entry, buffer in
            builder.table([0: .offset(builder.string(entry.name)), 1: .uint32(buffer)])
        }
        let metadataVector = builder.offsetVector(metadataTables)
        let descriptionString = builder.string(description)

        let root = builder.table([
            0: .uint32(3),
            1: .offset(codesVector),
            2: .offset(subgraphsVector),
            3: .offset(descriptionString),
            4: .offset(buffersVector),
            6: .offset(metadataVector),
        ])
        return builder.finish(root: root, fileIdentifier: "TFL3")
    }

    /// Rejects drafts that would write a file TFLite cannot load: dangling tensor indices, or constant
    /// data whose size does not match its shape and type.
    func validate() throws {
        func check(_ index: Int, _ what: String, optional: Bool = false) throws {
            if optional && index == -1 { return }
            guard index >= 0 && index < tensors.count else {
                throw UnsupportedModel(file: "(draft)", reason: "\(what) refers to tensor \(index), but there are \(tensors.count)")
            }
        }
        for i in inputs { try check(i, "graph input") }
        for i in outputs { try check(i, "graph output") }
        for (opIndex, op) in operators.enumerated() {
            for i in op.inputs { try check(i, "operator \(opIndex) (\(op.name)) input", optional: true) }
            for i in op.outputs + op.intermediates { try check(i, "operator \(opIndex) (\(op.name)) output") }
        }
        for tensor in tensors {
            if let data = tensor.data, !data.isEmpty, let size = tensor.type.byteSize,
               data.count != tensor.elementCount * size {
                throw UnsupportedModel(file: "(draft)", reason: "tensor '\(tensor.name)' has \(data.count) bytes, but shape "
                    + "\(tensor.shape) of \(tensor.type.name) needs \(tensor.elementCount * size)")
            }
        }
    }
}
