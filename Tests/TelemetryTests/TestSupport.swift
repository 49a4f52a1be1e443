import Foundation
import Testing
@testable import Telemetry

/// probes/<tree> of this repository, found from this file's path; a missing tree fails the test.
func probeTree(_ name: String, filePath: String = #filePath) throws -> SysfsReader {
    let repository = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let tree = repository.appendingPathComponent("probes").appendingPathComponent(name).path
    var isDirectory: ObjCBool = false
    try #require(FileManager.default.fileExists(atPath: tree, isDirectory: &isDirectory) && isDirectory.boolValue,
                 "probe tree \(tree) is missing")
    return SysfsReader(root: tree)
}

/// A clock the test moves by hand.
final class ManualClock: MonotonicClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64
    init(start: UInt64 = 0) { now = start }
    func nanoseconds() -> UInt64 { lock.lock(); defer { lock.unlock() }; return now }
    func set(_ value: UInt64) { lock.lock(); now = value; lock.unlock() }
}

/// A reader that fails with a chosen error for chosen paths (root does not honour chmod 000, so
/// permission denial is injected here).
final class FaultInjectingReader: SysfsReading, @unchecked Sendable {
    let base: SysfsReader
    private let lock = NSLock()
    private var failures: [String: SysfsReadError] = [:]
    init(_ base: SysfsReader) { self.base = base }
    var root: String { base.root }
    func fail(_ path: String, with error: SysfsReadError?) {
        lock.lock(); failures[path] = error; lock.unlock()
    }
    func readText(_ path: String) throws -> String {
        lock.lock(); let failure = failures[path]; lock.unlock()
        if let failure { throw failure }
        return try base.readText(path)
    }
    func listDirectory(_ path: String) -> [String]? { base.listDirectory(path) }
    func isDirectory(_ path: String) -> Bool { base.isDirectory(path) }
    func exists(_ path: String) -> Bool { base.exists(path) }
}

/// A scratch directory standing for "/", removed by `cleanUp()`.
struct ScratchTree {
    let root: URL
    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ssd-energy-telemetry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }
    func url(_ path: String) -> URL { root.appendingPathComponent(String(path.drop(while: { $0 == "/" }))) }
    func write(_ path: String, _ text: String) throws {
        let target = url(path)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (text + "\n").write(to: target, atomically: true, encoding: .utf8)
    }
    func remove(_ path: String) throws { try FileManager.default.removeItem(at: url(path)) }
    func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(at: url(path), withIntermediateDirectories: true)
    }
    func cleanUp() { try? FileManager.default.removeItem(at: root) }
    var reader: SysfsReader { SysfsReader(root: root.path) }
}
