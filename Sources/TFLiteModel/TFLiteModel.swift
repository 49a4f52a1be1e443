import Foundation

/// A TensorFlow Lite model file (flatbuffer schema v3), fully decoded and checked at load.
///
/// Tensor data is not copied: `buffers` are byte ranges into `bytes`, the file contents.
public struct TFLiteModel: Sendable {
    /// Where the model came from, for messages.
    public let fileName: String
    /// The whole file.
    public let bytes: [UInt8]
    public let version: UInt32
    public let description: String
    public let operatorCodes: [OperatorCode]
    public let subgraphs: [Subgraph]
    public let buffers: [Buffer]
    public let metadata: [Metadata]

    /// Loads and checks a .tflite file; throws `LoadError` naming the file and what is wrong.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw LoadError(file: url.path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        try self.init(bytes: [UInt8](data), fileName: url.path)
    }

    /// Decodes a model already in memory; `fileName` is used in error messages.
    public init(bytes: [UInt8], fileName: String) throws {
        do {
            self = try ModelDecoder(bytes: bytes, fileName: fileName).decode()
        } catch let error as LoadError {
            throw error
        } catch let error as FlatBufferError {
            throw LoadError(file: fileName, reason: "corrupt flatbuffer: \(error.description)")
        }
    }

    init(fileName: String, bytes: [UInt8], version: UInt32, description: String, operatorCodes: [OperatorCode],
         subgraphs: [Subgraph], buffers: [Buffer], metadata: [Metadata]) {
        self.fileName = fileName
        self.bytes = bytes
        self.version = version
        self.description = description
        self.operatorCodes = operatorCodes
        self.subgraphs = subgraphs
        self.buffers = buffers
        self.metadata = metadata
    }

    /// The subgraph TFLite runs (the first).
    public var mainSubgraph: Subgraph { subgraphs[0] }

    /// The constant contents of `tensor`, or nil when it has none (activations, inputs).
    public func constantData(of tensor: Tensor) -> ArraySlice<UInt8>? {
        let range = buffers[tensor.bufferIndex].range
        return range.isEmpty ? nil : bytes[range]
    }

    /// The operator code of `op`.
    public func code(of op: Operator) -> OperatorCode { operatorCodes[op.opcodeIndex] }

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public let file: String
        public let reason: String
        public var description: String { "model \(file): \(reason)" }
    }
}

extension TFLiteModel {
    /// Element types (schema.fbs `TensorType`).
    public enum TensorType: Int8, Sendable, CaseIterable {
        case float32 = 0, float16 = 1, int32 = 2, uint8 = 3, int64 = 4, string = 5, bool = 6, int16 = 7
        case complex64 = 8, int8 = 9, float64 = 10, complex128 = 11, uint64 = 12, resource = 13
        case variant = 14, uint32 = 15, uint16 = 16, int4 = 17, bfloat16 = 18, int2 = 19, uint4 = 20
        case float8e4m3fn = 21, float8e5m2 = 22

        /// Bytes per element, or nil for types without a fixed byte size (strings, packed sub-byte types).
        public var byteSize: Int? {
            switch self {
            case .float32, .int32, .uint32: return 4
            case .float16, .int16, .uint16, .bfloat16: return 2
            case .uint8, .int8, .bool, .float8e4m3fn, .float8e5m2: return 1
            case .int64, .uint64, .float64, .complex64: return 8
            case .complex128: return 16
            case .string, .resource, .variant, .int4, .int2, .uint4: return nil
            }
        }

        /// The schema's upper-case name (FLOAT32, INT8, ...).
        public var name: String {
            switch self {
            case .float32: return "FLOAT32"
            case .float16: return "FLOAT16"
            case .int32: return "INT32"
            case .uint8: return "UINT8"
            case .int64: return "INT64"
            case .string: return "STRING"
            case .bool: return "BOOL"
            case .int16: return "INT16"
            case .complex64: return "COMPLEX64"
            case .int8: return "INT8"
            case .float64: return "FLOAT64"
            case .complex128: return "COMPLEX128"
            case .uint64: return "UINT64"
            case .resource: return "RESOURCE"
            case .variant: return "VARIANT"
            case .uint32: return "UINT32"
            case .uint16: return "UINT16"
            case .int4: return "INT4"
            case .bfloat16: return "BFLOAT16"
            case .int2: return "INT2"
            case .uint4: return "UINT4"
            case .float8e4m3fn: return "FLOAT8_E4M3FN"
            case .float8e5m2: return "FLOAT8_E5M2"
            }
        }
    }

    /// Affine quantization: real = scale * (q - zeroPoint), per tensor or per channel.
    public struct Quantization: Sendable, Equatable {
        public let min: [Float]
        public let max: [Float]
        public let scales: [Float]
        public let zeroPoints: [Int64]
        /// The axis the per-channel arrays run along (meaningful when `isPerChannel`).
        public let quantizedDimension: Int

        public init(min: [Float] = [], max: [Float] = [], scales: [Float], zeroPoints: [Int64],
                    quantizedDimension: Int = 0) {
            self.min = min
            self.max = max
            self.scales = scales
            self.zeroPoints = zeroPoints
            self.quantizedDimension = quantizedDimension
        }

        public var isPerChannel: Bool { scales.count > 1 }
        /// True when there are scales to apply (a tensor can carry only min/max).
        public var isAffine: Bool { !scales.isEmpty }
    }

    public struct Tensor: Sendable {
        public let index: Int
        public let name: String
        /// Static shape (all dimensions known, >= 0).
        public let shape: [Int]
        /// Shape with -1 for dimensions unknown at conversion time, when the file records it.
        public let shapeSignature: [Int]?
        public let type: TensorType
        /// Index into `TFLiteModel.buffers`; buffer 0 is the empty sentinel.
        public let bufferIndex: Int
        public let quantization: Quantization?
        public let isVariable: Bool

        /// Number of elements (1 for a scalar).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public struct OperatorCode: Sendable {
        /// max(deprecated_builtin_code, builtin_code), as TFLite resolves it.
        public let builtinCode: Int32
        public let customCode: String?
        public let version: Int32

        public static let customBuiltinCode: Int32 = 32

        public var isCustom: Bool { builtinCode == Self.customBuiltinCode }
        /// The builtin name (CONV_2D) or the custom op's name (TFLite_Detection_PostProcess).
        public var name: String {
            isCustom ? (customCode ?? "CUSTOM") : BuiltinOperatorNames.name(of: builtinCode)
        }
    }

    public struct Operator: Sendable {
        /// Position in the subgraph's execution order.
        public let index: Int
        public let opcodeIndex: Int
        /// Tensor indices; -1 marks an omitted optional input.
        public let inputs: [Int]
        public let outputs: [Int]
        public let intermediates: [Int]
        public let builtinOptions: BuiltinOptions
        /// Raw custom options bytes (a FlexBuffer for TFLite_Detection_PostProcess), as a range of the file.
        public let customOptions: Range<Int>
    }

    public struct Subgraph: Sendable {
        public let name: String
        public let tensors: [Tensor]
        public let inputs: [Int]
        public let outputs: [Int]
        public let operators: [Operator]
    }

    /// Constant data: a byte range of the file (empty when the buffer holds nothing), either inside the
    /// flatbuffer or appended after it (offset/size, as models over 2 GB and some converters do).
    public struct Buffer: Sendable {
        public let range: Range<Int>
        public let isExternal: Bool
    }

    public struct Metadata: Sendable {
        public let name: String
        public let bufferIndex: Int
    }
}
