/// Reads the root map of a FlexBuffer (the schemaless format TFLite uses for custom op options),
/// with every offset and width checked, keeping the scalar, string and numeric-vector values.
public struct FlexBufferMap: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case int(Int64)
        case uint(UInt64)
        case double(Double)
        case bool(Bool)
        case string(String)
        case null
        /// A value of a kind not decoded here (nested maps, vectors, blobs), with its FlexBuffer type code.
        case unsupported(type: UInt8)

        public var asDouble: Double? {
            switch self {
            case let .int(v): return Double(v)
            case let .uint(v): return Double(v)
            case let .double(v): return v
            case let .bool(v): return v ? 1 : 0
            default: return nil
            }
        }
        public var asInt: Int? {
            switch self {
            case let .int(v): return Int(exactly: v)
            case let .uint(v): return Int(exactly: v)
            case let .bool(v): return v ? 1 : 0
            case let .double(v): return Int(exactly: v)
            default: return nil
            }
        }
    }

    public let values: [String: Value]

    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    // FlexBuffer type codes (flexbuffers.h `Type`).
    private enum TypeCode {
        static let null: UInt8 = 0, int: UInt8 = 1, uint: UInt8 = 2, float: UInt8 = 3, key: UInt8 = 4
        static let string: UInt8 = 5, indirectInt: UInt8 = 6, indirectUInt: UInt8 = 7
        static let indirectFloat: UInt8 = 8, map: UInt8 = 9, bool: UInt8 = 26
    }

    public init<Bytes: Collection>(_ input: Bytes) throws where Bytes.Element == UInt8 {
        let bytes = [UInt8](input)
        func fail(_ message: String) -> DecodeError { DecodeError(description: "FlexBuffer: \(message)") }
        func require(_ position: Int, _ width: Int) throws {
            guard position >= 0, width >= 0, position <= bytes.count, width <= bytes.count - position else {
                throw fail("read of \(width) bytes at \(position) runs outside the \(bytes.count)-byte buffer")
            }
        }
        func readUInt(_ position: Int, width: Int) throws -> UInt64 {
            try require(position, width)
            var value: UInt64 = 0
            for i in 0..<width { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
            return value
        }
        func readInt(_ position: Int, width: Int) throws -> Int64 {
            let raw = try readUInt(position, width: width)
            let shift = UInt64(64 - 8 * width)
            return Int64(bitPattern: raw << shift) >> Int64(shift)
        }
        func readFloat(_ position: Int, width: Int) throws -> Double {
            switch width {
            case 4: return Double(Float(bitPattern: UInt32(try readUInt(position, width: 4))))
            case 8: return Double(bitPattern: try readUInt(position, width: 8))
            default: throw fail("float of width \(width) bytes")
            }
        }
        // Offsets point backwards from where they are stored.
        func follow(_ position: Int, width: Int) throws -> Int {
            let offset = try readUInt(position, width: width)
            guard offset <= UInt64(position) else { throw fail("offset \(offset) at \(position) points before the buffer") }
            return position - Int(offset)
        }
        func cString(_ position: Int) throws -> String {
            try require(position, 0)
            guard let end = bytes[position...].firstIndex(of: 0) else { throw fail("unterminated key at \(position)") }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        func validWidth(_ w: Int) throws -> Int {
            guard [1, 2, 4, 8].contains(w) else { throw fail("invalid byte width \(w)") }
            return w
        }

        guard bytes.count >= 3 else { throw fail("\(bytes.count) bytes, too short") }
        let rootWidth = try validWidth(Int(bytes[bytes.count - 1]))
        let rootPacked = bytes[bytes.count - 2]
        let rootPosition = bytes.count - 2 - rootWidth
        try require(rootPosition, rootWidth)
        guard rootPacked >> 2 == TypeCode.map else { throw fail("root is type \(rootPacked >> 2), not a map") }
        let map = try follow(rootPosition, width: rootWidth)
        // A map's element width comes from the root's packed bit width.
        let width = try validWidth(1 << Int(rootPacked & 3))
        let count = try readUInt(map - width, width: width)
        guard count <= UInt64(bytes.count) else { throw fail("map claims \(count) entries") }
        let n = Int(count)
        let keysVector = try follow(map - 3 * width, width: width)
        let keysWidth = try validWidth(Int(try readUInt(map - 2 * width, width: width)))
        let keyCount = try readUInt(keysVector - keysWidth, width: keysWidth)
        guard keyCount == count else { throw fail("map has \(count) values but \(keyCount) keys") }
        try require(map, n * width + n)

        var values: [String: Value] = [:]
        for i in 0..<n {
            let key = try cString(try follow(keysVector + i * keysWidth, width: keysWidth))
            let slot = map + i * width
            let packed = bytes[map + n * width + i]
            let type = packed >> 2
            let childWidth = try validWidth(1 << Int(packed & 3))
            let value: Value
            switch type {
            case TypeCode.null: value = .null
            case TypeCode.int: value = .int(try readInt(slot, width: width))
            case TypeCode.uint: value = .uint(try readUInt(slot, width: width))
            case TypeCode.float: value = .double(try readFloat(slot, width: width))
            case TypeCode.bool: value = .bool(try readUInt(slot, width: width) != 0)
            case TypeCode.indirectInt: value = .int(try readInt(try follow(slot, width: width), width: childWidth))
            case TypeCode.indirectUInt:
                value = .uint(try readUInt(try follow(slot, width: width), width: childWidth))
            case TypeCode.indirectFloat:
                value = .double(try readFloat(try follow(slot, width: width), width: childWidth))
            case TypeCode.string, TypeCode.key:
                let start = try follow(slot, width: width)
                if type == TypeCode.key {
                    value = .string(try cString(start))
                } else {
                    let length = Int(try readUInt(start - childWidth, width: childWidth))
                    try require(start, length)
                    value = .string(String(decoding: bytes[start..<(start + length)], as: UTF8.self))
                }
            default: value = .unsupported(type: type)
            }
            values[key] = value
        }
        self.values = values
    }

    public subscript(key: String) -> Value? { values[key] }
}
