import Foundation

/// The committed fixtures beside this file (made by benchmarks/imaging/make_pil_fixtures.py).
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(name)) else {
            throw MissingFixture(path: path(name))
        }
        return [UInt8](data)
    }

    struct MissingFixture: Error, CustomStringConvertible {
        let path: String
        var description: String { "fixture missing: \(path) (run benchmarks/imaging/make_pil_fixtures.py)" }
    }
}

/// FNV-1a 64, the checksum the fixture script writes for Pillow's pixels.
func fnv1a64(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// How two equally long byte arrays differ: how many bytes, the largest difference, the first index.
struct ByteDifference: CustomStringConvertible {
    var count = 0
    var maximum = 0
    var firstIndex: Int?

    init(_ a: [UInt8], _ b: [UInt8]) {
        precondition(a.count == b.count)
        for i in a.indices where a[i] != b[i] {
            count += 1
            maximum = max(maximum, abs(Int(a[i]) - Int(b[i])))
            if firstIndex == nil { firstIndex = i }
        }
    }

    var description: String { "\(count) bytes differ, max diff \(maximum), first at \(firstIndex ?? -1)" }
}
