/// Turns file bytes into a checked `TFLiteModel`: every index, offset, vector and buffer size is
/// validated, so later stages can index without re-checking.
struct ModelDecoder {
    let reader: FlatBufferReader
    let fileName: String

    init(bytes: [UInt8], fileName: String) {
        self.reader = FlatBufferReader(bytes)
        self.fileName = fileName
    }

    func fail(_ reason: String) -> TFLiteModel.LoadError {
        TFLiteModel.LoadError(file: fileName, reason: reason)
    }

    func decode() throws -> TFLiteModel {
        guard reader.count >= 8 else { throw fail("file is \(reader.count) bytes, too short for a flatbuffer") }
        // The file identifier "TFL3" is optional in the schema, but when present it must match.
        let identifier = String(decoding: reader.bytes[4..<8], as: UTF8.self)
        if identifier != "TFL3" && reader.bytes[4..<8].allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
            throw fail("file identifier is '\(identifier)', expected 'TFL3' (not a TFLite model?)")
        }
        let model = try reader.rootTable()
        let version = try model.uint32(0)
        guard version == 3 else { throw fail("schema version \(version), only version 3 is supported") }

        let buffers = try model.tableVector(4, "buffers").enumerated().map { try decodeBuffer($1, index: $0) }
        let operatorCodes = try model.tableVector(1, "operator_codes").map(decodeOperatorCode)
        let subgraphTables = try model.tableVector(2, "subgraphs")
        guard !subgraphTables.isEmpty else { throw fail("model has no subgraphs") }
        let subgraphs = try subgraphTables.enumerated().map {
            try decodeSubgraph($1, index: $0, buffers: buffers, operatorCodes: operatorCodes)
        }
        let metadata = try model.tableVector(6, "metadata").enumerated().map { index, table in
            let bufferIndex = Int(try table.uint32(1))
            guard bufferIndex < buffers.count else {
                throw fail("metadata \(index) refers to buffer \(bufferIndex), but there are \(buffers.count)")
            }
            return TFLiteModel.Metadata(name: try table.string(0, "metadata name") ?? "", bufferIndex: bufferIndex)
        }
        return TFLiteModel(
            fileName: fileName, bytes: reader.bytes, version: version,
            description: try model.string(3, "description") ?? "",
            operatorCodes: operatorCodes, subgraphs: subgraphs, buffers: buffers, metadata: metadata)
    }

    private func decodeBuffer(_ table: FlatBufferTable, index: Int) throws -> TFLiteModel.Buffer {
        let inline = try table.byteRange(0, "buffer \(index) data") ?? 0..<0
        let offset = try table.uint64(1)
        let size = try table.uint64(2)
        // offset 0 and 1 both mean "no external data" (1 is the converter's placeholder).
        guard offset > 1 else { return .init(range: inline, isExternal: false) }
        guard inline.isEmpty else { throw fail("buffer \(index) has both inline data and an external offset") }
        guard offset <= UInt64(reader.count), size <= UInt64(reader.count) - offset else {
            throw fail("buffer \(index) points at bytes \(offset)..<\(offset &+ size), past the end of the "
                + "\(reader.count)-byte file (truncated?)")
        }
        return .init(range: Int(offset)..<Int(offset + size), isExternal: true)
    }

    private func decodeOperatorCode(_ table: FlatBufferTable) throws -> TFLiteModel.OperatorCode {
        let deprecated = Int32(try table.int8(0))
        let builtin = try table.int32(3)
        // Files from before builtin_code existed only set the deprecated byte; newer ones set both,
        // with the byte capped at 127. TFLite takes the larger.
        return .init(builtinCode: max(deprecated, builtin), customCode: try table.string(1, "custom_code"),
                     version: try table.int32(2, default: 1))
    }

    private func decodeSubgraph(_ table: FlatBufferTable, index subgraphIndex: Int,
                                buffers: [TFLiteModel.Buffer],
                                operatorCodes: [TFLiteModel.OperatorCode]) throws -> TFLiteModel.Subgraph {
        let tensors = try table.tableVector(0, "tensors").enumerated().map {
            try decodeTensor($1, index: $0, buffers: buffers)
        }
        func tensorIndices(_ raw: [Int32]?, _ what: String, optionalAllowed: Bool) throws -> [Int] {
            try (raw ?? []).map { value in
                let i = Int(value)
                if optionalAllowed && i == -1 { return -1 }
                guard i >= 0 && i < tensors.count else {
                    throw fail("subgraph \(subgraphIndex): \(what) refers to tensor \(i), "
                        + "but there are \(tensors.count) tensors")
                }
                return i
            }
        }
        let inputs = try tensorIndices(table.int32Vector(1, "inputs"), "input list", optionalAllowed: false)
        let outputs = try tensorIndices(table.int32Vector(2, "outputs"), "output list", optionalAllowed: false)
        let operators = try table.tableVector(3, "operators").enumerated().map { opIndex, op in
            let opcodeIndex = Int(try op.uint32(0))
            guard opcodeIndex < operatorCodes.count else {
                throw fail("subgraph \(subgraphIndex) operator \(opIndex): opcode index \(opcodeIndex) "
                    + "out of range (\(operatorCodes.count) operator codes)")
            }
            let code = operatorCodes[opcodeIndex]
            let location = "subgraph \(subgraphIndex) operator \(opIndex) (\(code.name))"
            let opInputs = try tensorIndices(op.int32Vector(1, "inputs"), "\(location) input", optionalAllowed: true)
            let opOutputs = try tensorIndices(op.int32Vector(2, "outputs"), "\(location) output",
                                              optionalAllowed: false)
            let intermediates = try tensorIndices(op.int32Vector(8, "intermediates"), "\(location) intermediate",
                                                  optionalAllowed: false)
            var custom = try op.byteRange(5, "custom_options") ?? 0..<0
            let largeOffset = try op.uint64(9)
            let largeSize = try op.uint64(10)
            if largeOffset > 0 {
                guard largeOffset <= UInt64(reader.count), largeSize <= UInt64(reader.count) - largeOffset else {
                    throw fail("\(location): large custom options at \(largeOffset) (+\(largeSize)) lie past "
                        + "the end of the file")
                }
                custom = Int(largeOffset)..<Int(largeOffset + largeSize)
            }
            let options = try decodeBuiltinOptions(op, builtinCode: code.builtinCode, opName: code.name,
                                                   where: location)
            return TFLiteModel.Operator(index: opIndex, opcodeIndex: opcodeIndex, inputs: opInputs,
                                        outputs: opOutputs, intermediates: intermediates,
                                        builtinOptions: options, customOptions: custom)
        }
        return .init(name: try table.string(4, "subgraph name") ?? "", tensors: tensors, inputs: inputs,
                     outputs: outputs, operators: operators)
    }

    private func decodeTensor(_ table: FlatBufferTable, index: Int,
                              buffers: [TFLiteModel.Buffer]) throws -> TFLiteModel.Tensor {
        let name = try table.string(3, "tensor name") ?? ""
        let location = "tensor \(index) '\(name)'"
        let rawType = try table.int8(1)
        guard let type = TFLiteModel.TensorType(rawValue: rawType) else {
            throw fail("\(location) has unknown type \(rawType)")
        }
        let shape = try (table.int32Vector(0, "shape") ?? []).map { dim -> Int in
            guard dim >= 0 else { throw fail("\(location) has negative dimension \(dim) in its shape") }
            return Int(dim)
        }
        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow, product < 1 << 40 else { throw fail("\(location) has absurd shape \(shape)") }
            elements = product
        }
        let bufferIndex = Int(try table.uint32(2))
        guard bufferIndex < buffers.count else {
            throw fail("\(location) refers to buffer \(bufferIndex), but there are \(buffers.count) buffers")
        }
        let dataBytes = buffers[bufferIndex].range.count
        if dataBytes > 0, let elementSize = type.byteSize, dataBytes != elements * elementSize {
            throw fail("\(location): buffer \(bufferIndex) holds \(dataBytes) bytes, but shape \(shape) of "
                + "\(type.name) needs \(elements * elementSize)")
        }
        let quantization = try table.table(4, "quantization").map { try decodeQuantization($0, shape: shape,
                                                                                       location: location) }
        return .init(index: index, name: name, shape: shape,
                     shapeSignature: try table.int32Vector(7, "shape_signature")?.map { Int($0) },
                     type: type, bufferIndex: bufferIndex, quantization: quantization ?? nil,
                     isVariable: try table.bool(5))
    }

    private func decodeQuantization(_ table: FlatBufferTable, shape: [Int],
                                    location: String) throws -> TFLiteModel.Quantization? {
        let scales = try table.float32Vector(2, "scale") ?? []
        let zeroPoints = try table.int64Vector(3, "zero_point") ?? []
        let min = try table.float32Vector(0, "min") ?? []
        let max = try table.float32Vector(1, "max") ?? []
        let dimension = Int(try table.int32(6))
        if scales.isEmpty && zeroPoints.isEmpty && min.isEmpty && max.isEmpty { return nil }
        guard zeroPoints.isEmpty || zeroPoints.count == scales.count else {
            throw fail("\(location): \(scales.count) quantization scales but \(zeroPoints.count) zero points")
        }
        if scales.count > 1 {
            guard dimension >= 0 && dimension < shape.count else {
                throw fail("\(location): quantized_dimension \(dimension) is not an axis of shape \(shape)")
            }
            guard shape[dimension] == scales.count else {
                throw fail("\(location): \(scales.count) per-channel scales but dimension \(dimension) "
                    + "of shape \(shape) has \(shape[dimension]) channels")
            }
        }
        return .init(min: min, max: max, scales: scales,
                     zeroPoints: zeroPoints.isEmpty ? Array(repeating: 0, count: scales.count) : zeroPoints,
                     quantizedDimension: dimension)
    }
}
