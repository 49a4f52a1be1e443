import TFLiteModel

/// A tensor as a kernel sees it: shape, element type, quantization and where its bytes are.
struct BoundTensor {
    let index: Int
    let shape: [Int]
    let type: TFLiteModel.TensorType
    let quantization: TFLiteModel.Quantization?
    let data: UnsafeMutableRawPointer
    /// True when `type` is FLOAT32 but the bytes are the float16 weights behind a DEQUANTIZE
    /// (the float16-on-the-fly mode); only convolution filters and biases accept this.
    let holdsFloat16Weights: Bool

    var elementCount: Int { shape.reduce(1, *) }
    var byteCount: Int { elementCount * (type.byteSize ?? 0) }
    /// Whether the two tensors' bytes overlap (the memory planner reuses dead tensors' bytes).
    func sharesBytes(with other: BoundTensor) -> Bool {
        let (start, otherStart) = (UInt(bitPattern: data), UInt(bitPattern: other.data))
        return start < otherStart + UInt(other.byteCount) && otherStart < start + UInt(byteCount)
    }
    var float: UnsafeMutablePointer<Float> { data.assumingMemoryBound(to: Float.self) }
    var float16: UnsafeMutablePointer<Float16> { data.assumingMemoryBound(to: Float16.self) }
}

/// Everything a kernel factory needs about one operator.
struct OperatorBinding {
    let op: TFLiteModel.Operator
    let name: String
    let inputs: [BoundTensor?]
    let outputs: [BoundTensor]
    let customOptions: FlexBufferMap?

    func input(_ i: Int) throws -> BoundTensor {
        guard i < inputs.count, let tensor = inputs[i] else { throw KernelError.invalid("input \(i) is missing") }
        return tensor
    }
    func output(_ i: Int) throws -> BoundTensor {
        guard i < outputs.count else { throw KernelError.invalid("output \(i) is missing") }
        return outputs[i]
    }
}

enum KernelError: Error {
    /// The op or this combination of types has no kernel (yet).
    case unsupported(String)
    /// The model is inconsistent for this op.
    case invalid(String)

    var message: String {
        switch self {
        case let .unsupported(m), let .invalid(m): return m
        }
    }
}
