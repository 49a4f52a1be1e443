/// schema.fbs `BuiltinOperator` numbers of the operators the conversions create or treat specially.
enum BuiltinCode {
    static let add: Int32 = 0
    static let averagePool2D: Int32 = 1
    static let concatenation: Int32 = 2
    static let conv2D: Int32 = 3
    static let depthwiseConv2D: Int32 = 4
    static let dequantize: Int32 = 6
    static let logistic: Int32 = 14
    static let maxPool2D: Int32 = 17
    static let relu6: Int32 = 21
    static let reshape: Int32 = 22
    static let softmax: Int32 = 25
    static let pad: Int32 = 34
    static let quantize: Int32 = 114
}
