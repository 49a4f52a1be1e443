import Foundation

/// Fixtures beside this file, made by benchmarks/detector/make_detector_fixtures.py.
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func data(_ name: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path(name)) else { throw MissingFixture(path: path(name)) }
        return data
    }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try data(name)) }

    static func float32s(_ name: String) throws -> [Float] {
        let d = try data(name)
        return d.withUnsafeBytes { raw in
            (0..<(d.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: data(name)) as! [String: Any]
    }

    struct MissingFixture: Error, CustomStringConvertible {
        let path: String
        var description: String { "fixture missing: \(path) (run benchmarks/detector/make_detector_fixtures.py)" }
    }
}

/// A JSON number as Float; float32 values were written as their exact double expansion.
func float(_ any: Any) -> Float { Float((any as! NSNumber).doubleValue) }
