// Reads the operator fixtures written by Fixtures/make_op_fixtures.py (LiteRT reference-kernel
// inputs and outputs of single operators of the shared models).
import Foundation
@testable import Inference

struct OpFixture: Decodable {
    struct Tensor: Decodable {
        let name: String
        let type: String
        let shape: [Int]
        let scales: [Float]
        let zeroPoints: [Int32]
        let quantizedDimension: Int
        let data: String

        var quantization: Quantized.TensorQuantization {
            Quantized.TensorQuantization(scales: scales, zeroPoints: zeroPoints, quantizedDimension: quantizedDimension)
        }

        func values<T>(_ type: T.Type) throws -> [T] {
            guard let bytes = Data(base64Encoded: data) else { throw FixtureError("\(name): data is not base64") }
            guard bytes.count % MemoryLayout<T>.stride == 0 else {
                throw FixtureError("\(name): \(bytes.count) bytes is not a whole number of \(T.self)")
            }
            // The fixtures are little-endian, as are the machines this project runs on.
            return bytes.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
        }
    }

    enum Option: Decodable {
        case string(String), number(Double), bool(Bool)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }
    }

    let source: String
    let crop: String
    let op: String
    let options: [String: Option]
    let inputs: [Tensor]
    let outputs: [Tensor]

    func int(_ key: String) throws -> Int {
        guard case .number(let value)? = options[key] else { throw FixtureError("\(source): no integer option \(key)") }
        return Int(value)
    }

    func number(_ key: String) throws -> Double {
        guard case .number(let value)? = options[key] else { throw FixtureError("\(source): no number option \(key)") }
        return value
    }

    func bool(_ key: String) throws -> Bool {
        guard case .bool(let value)? = options[key] else { throw FixtureError("\(source): no boolean option \(key)") }
        return value
    }

    func padding() throws -> Quantized.Padding {
        switch options["padding"] {
        case .string("SAME")?: return .same
        case .string("VALID")?: return .valid
        default: throw FixtureError("\(source): no padding option")
        }
    }

    func activation() throws -> Quantized.FusedActivation {
        switch options["fusedActivationFunction"] {
        case .string("NONE")?: return .none
        case .string("RELU")?: return .relu
        case .string("RELU6")?: return .relu6
        case .string("RELU_N1_TO_1")?: return .reluN1To1
        default: throw FixtureError("\(source): unsupported fusedActivationFunction")
        }
    }

    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// All fixture files for one operator name (e.g. "conv_2d"), sorted by name.
    static func names(for op: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.range(of: "_op[0-9]+_\(op)\\.json$", options: .regularExpression) != nil }.sorted()
    }

    static func load(_ name: String) throws -> OpFixture {
        let url = directory.appendingPathComponent(name)
        do {
            return try JSONDecoder().decode(OpFixture.self, from: Data(contentsOf: url))
        } catch {
            throw FixtureError("\(url.path): \(error)")
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How far a kernel's output is from the reference: elements that differ, and the largest difference.
struct Mismatch: CustomStringConvertible, Equatable {
    var count: Int
    var largest: Int
    var description: String { "\(count) elements differ, largest difference \(largest)" }

    static func between<T: BinaryInteger>(_ actual: [T], _ expected: [T]) -> Mismatch {
        var result = Mismatch(count: 0, largest: 0)
        for (a, e) in zip(actual, expected) where a != e {
            result.count += 1
            result.largest = max(result.largest, abs(Int(a) - Int(e)))
        }
        if actual.count != expected.count { result.count += abs(actual.count - expected.count) }
        return result
    }

    static let none = Mismatch(count: 0, largest: 0)
}

/// Calls `body` with a buffer over `array`, or with nil when there is no array (an absent bias).
func withOptionalBuffer<T, R>(_ array: [T]?, _ body: (UnsafeBufferPointer<T>?) throws -> R) rethrows -> R {
    if let array { return try array.withUnsafeBufferPointer { try body($0) } }
    return try body(nil)
}

/// Runs the int8 or uint8 instantiation of a generic check, by the fixture tensor's type.
protocol ElementCheck {
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch
}

extension OpFixture.Tensor {
    func check(_ body: some ElementCheck) throws -> Mismatch {
        switch type {
        case "int8": return try body.run(Int8.self)
        case "uint8": return try body.run(UInt8.self)
        default: throw FixtureError("\(name): expected an int8 or uint8 tensor, got \(type)")
        }
    }
}
