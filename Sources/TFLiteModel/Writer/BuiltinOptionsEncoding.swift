/// The schema.fbs tables of `TFLiteModel.BuiltinOptions`, for writing: union member number and fields.
extension TFLiteModel.BuiltinOptions {
    /// Union member number (schema `BuiltinOptions`) and fields, or nil for `.none`.
    func encoded(into builder: inout FlatBufferBuilder) -> (unionType: UInt8, table: FlatBufferBuilder.Offset)? {
        typealias F = FlatBufferBuilder.Field
        func activation(_ a: TFLiteModel.Activation) -> F { .int8(a.rawValue) }
        func int(_ v: Int) -> F { .int32(Int32(v)) }
        let unionType: UInt8
        let fields: [Int: F]
        switch self {
        case .none:
            return nil
        case .conv2D(let o):
            unionType = 1
            fields = [0: .int8(o.padding.rawValue), 1: int(o.strideWidth), 2: int(o.strideHeight),
                      3: activation(o.activation), 4: int(o.dilationWidth), 5: int(o.dilationHeight)]
        case .depthwiseConv2D(let o):
            unionType = 2
            fields = [0: .int8(o.padding.rawValue), 1: int(o.strideWidth), 2: int(o.strideHeight),
                      3: int(o.depthMultiplier), 4: activation(o.activation), 5: int(o.dilationWidth),
                      6: int(o.dilationHeight)]
        case .pool2D(let o):
            unionType = 5
            fields = [0: .int8(o.padding.rawValue), 1: int(o.strideWidth), 2: int(o.strideHeight),
                      3: int(o.filterWidth), 4: int(o.filterHeight), 5: activation(o.activation)]
        case .fullyConnected(let a, let keepNumDims):
            unionType = 8
            fields = [0: activation(a), 2: .bool(keepNumDims)]
        case .softmax(let beta):
            unionType = 9
            fields = [0: .float32(beta)]
        case .concatenation(let axis, let a):
            unionType = 10
            fields = [0: int(axis), 1: activation(a)]
        case .add(let a):
            unionType = 11
            fields = [0: activation(a)]
        case .mul(let a):
            unionType = 21
            fields = [0: activation(a)]
        case .sub(let a):
            unionType = 28
            fields = [0: activation(a)]
        case .resizeBilinear(let alignCorners, let halfPixelCenters):
            unionType = 15
            fields = [2: .bool(alignCorners), 3: .bool(halfPixelCenters)]
        case .reshape(let newShape):
            unionType = 17
            if let newShape {
                fields = [0: .offset(builder.int32Vector(newShape.map { Int32($0) }))]
            } else {
                fields = [:]
            }
        case .stridedSlice(let o):
            unionType = 32
            fields = [0: .int32(o.beginMask), 1: .int32(o.endMask), 2: .int32(o.ellipsisMask),
                      3: .int32(o.newAxisMask), 4: .int32(o.shrinkAxisMask), 5: .bool(o.offset)]
        case .pack(let valuesCount, let axis):
            unionType = 59
            fields = [0: int(valuesCount), 1: int(axis)]
        case .reducer(let keepDims):
            unionType = 27
            fields = [0: .bool(keepDims)]
        case .shape(let outType):
            unionType = 55
            fields = [0: .int8(outType.rawValue)]
        case .unparsed(let type):
            // Only kept when the original table was empty (checked by ModelDraft.init).
            unionType = type
            fields = [:]
        }
        return (unionType, builder.table(fields))
    }
}
