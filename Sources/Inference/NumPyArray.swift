import Foundation
import TFLiteModel

/// A NumPy `.npy` array (format version 1.0/2.0 read, 1.0 written): little-endian, C order.
public struct NumPyArray: Sendable, Equatable {
    public let type: TFLiteModel.TensorType
    public let shape: [Int]
    /// Element bytes, little-endian, C order.
    public let bytes: [UInt8]

    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(type: TFLiteModel.TensorType, shape: [Int], bytes: [UInt8]) {
        self.type = type
        self.shape = shape
        self.bytes = bytes
    }

    /// NumPy's dtype string for each tensor type we exchange.
    static func descriptor(of type: TFLiteModel.TensorType) -> String? {
        switch type {
        case .float32: return "<f4"
        case .float16: return "<f2"
        case .float64: return "<f8"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .int16: return "<i2"
        case .uint8: return "|u1"
        case .int8: return "|i1"
        case .bool: return "|b1"
        default: return nil
        }
    }

    static func type(ofDescriptor descriptor: String) -> TFLiteModel.TensorType? {
        // '<' little-endian, '|' not applicable, '=' native (little-endian on our targets).
        let normalized = descriptor.replacingOccurrences(of: "=", with: "<")
        for type in TFLiteModel.TensorType.allCases {
            guard let d = Self.descriptor(of: type) else { continue }
            if d == normalized || (d.hasPrefix("|") && "<" + d.dropFirst() == normalized) { return type }
        }
        return nil
    }

    /// Reads a .npy file; errors name the file and what is wrong.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FormatError(description: "\(url.path): cannot read (\(error.localizedDescription))")
        }
        do {
            try self.init(npyBytes: [UInt8](data))
        } catch let error as FormatError {
            throw FormatError(description: "\(url.path): \(error.description)")
        }
    }

    public init(npyBytes b: [UInt8]) throws {
        func fail(_ m: String) -> FormatError { FormatError(description: "not a valid .npy file: \(m)") }
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw fail("bad magic") }
        let major = b[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(b[8]) | Int(b[9]) << 8
            headerStart = 10
        case 2, 3:
            guard b.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported format version \(major)")
        }
        guard headerStart + headerLength <= b.count else { throw fail("truncated header") }
        let header = String(decoding: b[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        func value(of key: String) -> String? {
            guard let keyRange = header.range(of: "'\(key)':") else { return nil }
            return String(header[keyRange.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = value(of: "descr"), let firstQuote = descrField.firstIndex(of: "'") else {
            throw fail("header has no descr")
        }
        let afterQuote = descrField[descrField.index(after: firstQuote)...]
        guard let endQuote = afterQuote.firstIndex(of: "'") else { throw fail("malformed descr") }
        let descriptor = String(afterQuote[..<endQuote])
        guard let type = Self.type(ofDescriptor: descriptor) else {
            throw fail("dtype '\(descriptor)' is not supported (need little-endian f4/f2/i4/i8/i2/u1/i1/b1)")
        }
        guard let order = value(of: "fortran_order") else { throw fail("header has no fortran_order") }
        guard order.hasPrefix("False") else { throw fail("Fortran-order arrays are not supported") }
        guard let shapeField = value(of: "shape"), let open = shapeField.firstIndex(of: "("),
              let close = shapeField.firstIndex(of: ")") else { throw fail("header has no shape") }
        let shapeText = shapeField[shapeField.index(after: open)..<close]
        var shape: [Int] = []
        for part in shapeText.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dim = Int(trimmed), dim >= 0 else { throw fail("bad shape (\(shapeText))") }
            shape.append(dim)
        }
        let dataStart = headerStart + headerLength
        let (expected, overflow) = shape.reduce(1, *).multipliedReportingOverflow(by: type.byteSize ?? 1)
        guard !overflow, b.count - dataStart == expected else {
            throw fail("shape \(shape) of \(descriptor) needs \(expected) data bytes, file has \(b.count - dataStart)")
        }
        self.init(type: type, shape: shape, bytes: Array(b[dataStart...]))
    }

    /// The .npy (version 1.0) encoding.
    public func npyBytes() throws -> [UInt8] {
        guard let descriptor = Self.descriptor(of: type) else {
            throw FormatError(description: "cannot write \(type.name) arrays as .npy")
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        out += bytes
        return out
    }

    public func write(to url: URL) throws {
        try Data(try npyBytes()).write(to: url)
    }
}

extension NumPyArray {
    /// NumPy's name for a tensor type (float32, uint8, ...), for messages.
    public static func descriptorName(_ type: TFLiteModel.TensorType) -> String {
        switch type {
        case .float32: return "float32"
        case .float16: return "float16"
        case .float64: return "float64"
        case .int32: return "int32"
        case .int64: return "int64"
        case .int16: return "int16"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .bool: return "bool"
        default: return type.name
        }
    }
}
