extension TFLiteModel {
    /// schema.fbs `ActivationFunctionType`: the clamp fused into an op's output.
    public enum Activation: Int8, Sendable {
        case none = 0, relu = 1, reluN1To1 = 2, relu6 = 3, tanh = 4, signBit = 5
    }

    /// schema.fbs `Padding`.
    public enum Padding: Int8, Sendable {
        case same = 0, valid = 1
    }

    public struct Conv2DOptions: Sendable, Equatable {
        public var padding: Padding
        public var strideWidth: Int
        public var strideHeight: Int
        public var activation: Activation
        public var dilationWidth: Int
        public var dilationHeight: Int
    }

    public struct DepthwiseConv2DOptions: Sendable, Equatable {
        public var padding: Padding
        public var strideWidth: Int
        public var strideHeight: Int
        public var depthMultiplier: Int
        public var activation: Activation
        public var dilationWidth: Int
        public var dilationHeight: Int
    }

    public struct Pool2DOptions: Sendable, Equatable {
        public var padding: Padding
        public var strideWidth: Int
        public var strideHeight: Int
        public var filterWidth: Int
        public var filterHeight: Int
        public var activation: Activation
    }

    public struct StridedSliceOptions: Sendable, Equatable {
        public var beginMask: Int32
        public var endMask: Int32
        public var ellipsisMask: Int32
        public var newAxisMask: Int32
        public var shrinkAxisMask: Int32
        /// When true, `end` is relative to `begin`.
        public var offset: Bool
    }

    /// The decoded builtin options of an operator, for the ops this project runs. Options of other ops
    /// are kept undecoded as `.unparsed` with their union type.
    public enum BuiltinOptions: Sendable, Equatable {
        case none
        case conv2D(Conv2DOptions)
        case depthwiseConv2D(DepthwiseConv2DOptions)
        case pool2D(Pool2DOptions)
        case fullyConnected(activation: Activation, keepNumDims: Bool)
        case softmax(beta: Float)
        case concatenation(axis: Int, activation: Activation)
        case add(activation: Activation)
        case mul(activation: Activation)
        case sub(activation: Activation)
        case resizeBilinear(alignCorners: Bool, halfPixelCenters: Bool)
        case reshape(newShape: [Int]?)
        case stridedSlice(StridedSliceOptions)
        case pack(valuesCount: Int, axis: Int)
        case reducer(keepDims: Bool)
        case shape(outType: TensorType)
        case unparsed(unionType: UInt8)
    }
}

extension ModelDecoder {
    /// schema.fbs `BuiltinOptions` union member numbers of the tables decoded here.
    private enum UnionType: UInt8 {
        case conv2D = 1, depthwiseConv2D = 2, pool2D = 5, fullyConnected = 8, softmax = 9
        case concatenation = 10, add = 11, resizeBilinear = 15, reshape = 17, mul = 21, reducer = 27
        case sub = 28, stridedSlice = 32, shape = 55, pack = 59
    }

    /// Decodes the options table of an operator by what its builtin code expects.
    func decodeBuiltinOptions(_ op: FlatBufferTable, builtinCode: Int32, opName: String,
                              where location: String) throws -> TFLiteModel.BuiltinOptions {
        let unionTypeCode = try op.uint8(3)
        guard unionTypeCode != 0 else { return try defaultOptions(builtinCode: builtinCode) }
        guard let table = try op.table(4, "builtin options") else {
            throw fail("\(location): builtin options type \(unionTypeCode) is set but the options table is missing")
        }
        guard let unionType = UnionType(rawValue: unionTypeCode) else { return .unparsed(unionType: unionTypeCode) }

        func activation(_ field: Int) throws -> TFLiteModel.Activation {
            let raw = try table.int8(field)
            guard let value = TFLiteModel.Activation(rawValue: raw) else {
                throw fail("\(location) (\(opName)): unknown fused activation \(raw)")
            }
            return value
        }
        func padding(_ field: Int) throws -> TFLiteModel.Padding {
            let raw = try table.int8(field)
            guard let value = TFLiteModel.Padding(rawValue: raw) else {
                throw fail("\(location) (\(opName)): unknown padding \(raw)")
            }
            return value
        }
        func positive(_ field: Int, _ what: String, default value: Int32 = 0) throws -> Int {
            let raw = try table.int32(field, default: value)
            guard raw >= 1 else { throw fail("\(location) (\(opName)): \(what) is \(raw), must be >= 1") }
            return Int(raw)
        }

        switch unionType {
        case .conv2D:
            return .conv2D(.init(
                padding: try padding(0), strideWidth: try positive(1, "stride_w"),
                strideHeight: try positive(2, "stride_h"), activation: try activation(3),
                dilationWidth: try positive(4, "dilation_w_factor", default: 1),
                dilationHeight: try positive(5, "dilation_h_factor", default: 1)))
        case .depthwiseConv2D:
            return .depthwiseConv2D(.init(
                padding: try padding(0), strideWidth: try positive(1, "stride_w"),
                strideHeight: try positive(2, "stride_h"),
                // TFLite treats a missing/zero depth_multiplier as "infer from shapes"; 0 kept as such.
                depthMultiplier: Int(try table.int32(3)), activation: try activation(4),
                dilationWidth: try positive(5, "dilation_w_factor", default: 1),
                dilationHeight: try positive(6, "dilation_h_factor", default: 1)))
        case .pool2D:
            return .pool2D(.init(
                padding: try padding(0), strideWidth: try positive(1, "stride_w"),
                strideHeight: try positive(2, "stride_h"), filterWidth: try positive(3, "filter_width"),
                filterHeight: try positive(4, "filter_height"), activation: try activation(5)))
        case .fullyConnected:
            return .fullyConnected(activation: try activation(0), keepNumDims: try table.bool(2))
        case .softmax:
            return .softmax(beta: try table.float32(0))
        case .concatenation:
            return .concatenation(axis: Int(try table.int32(0)), activation: try activation(1))
        case .add:
            return .add(activation: try activation(0))
        case .mul:
            return .mul(activation: try activation(0))
        case .sub:
            return .sub(activation: try activation(0))
        case .resizeBilinear:
            return .resizeBilinear(alignCorners: try table.bool(2), halfPixelCenters: try table.bool(3))
        case .reshape:
            return .reshape(newShape: try table.int32Vector(0, "new_shape")?.map { Int($0) })
        case .stridedSlice:
            return .stridedSlice(.init(
                beginMask: try table.int32(0), endMask: try table.int32(1), ellipsisMask: try table.int32(2),
                newAxisMask: try table.int32(3), shrinkAxisMask: try table.int32(4), offset: try table.bool(5)))
        case .pack:
            return .pack(valuesCount: Int(try table.int32(0)), axis: Int(try table.int32(1)))
        case .reducer:
            return .reducer(keepDims: try table.bool(0))
        case .shape:
            let raw = try table.int8(0)
            guard let type = TFLiteModel.TensorType(rawValue: raw) else {
                throw fail("\(location) (\(opName)): unknown SHAPE out_type \(raw)")
            }
            return .shape(outType: type)
        }
    }

    /// What TFLite assumes when an op carries no options table.
    private func defaultOptions(builtinCode: Int32) throws -> TFLiteModel.BuiltinOptions {
        switch BuiltinOperatorNames.name(of: builtinCode) {
        case "SOFTMAX": return .softmax(beta: 0)  // the schema default; converters always write the table
        case "SHAPE": return .shape(outType: .int32)
        case "MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD": return .reducer(keepDims: false)
        case "ADD": return .add(activation: .none)
        case "MUL": return .mul(activation: .none)
        case "SUB": return .sub(activation: .none)
        case "RESIZE_BILINEAR": return .resizeBilinear(alignCorners: false, halfPixelCenters: false)
        case "RESHAPE": return .reshape(newShape: nil)
        default: return .none
        }
    }
}
