import Foundation
import Testing

/// The telemetry layer only reads /sys and /proc. Checked on its source: every file it opens is
/// opened read-only, and it uses no API that writes, creates or removes files. (A new write call in
/// Telemetry fails this test and must be justified here.)
@Suite struct ReadOnlyRobustnessTests {
    static let telemetrySources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    func sourceFiles() throws -> [(name: String, text: String)] {
        var files: [(String, String)] = []
        for folder in ["Telemetry", "CPerfEvent", "CPfm", "CSensors"] {
            let root = Self.telemetrySources.appendingPathComponent(folder)
            let paths = try #require(FileManager.default.subpathsOfDirectory(atPath: root.path) as [String]?)
            for path in paths where [".swift", ".c", ".h"].contains(where: path.hasSuffix) {
                files.append(("\(folder)/\(path)", try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)))
            }
        }
        return files
    }

    @Test func everyOpenIsReadOnly() throws {
        let files = try sourceFiles()
        #expect(files.contains { $0.name.hasSuffix("SysfsReader.swift") }, "the sysfs reader moved; update this test")
        for (name, text) in files {
            for line in text.split(separator: "\n") where line.range(of: #"(=|return)\s*open\("#, options: .regularExpression) != nil {
                #expect(line.contains("O_RDONLY"), "\(name): opens without O_RDONLY: \(line)")
            }
        }
    }

    @Test func noCallWritesCreatesOrRemovesFiles() throws {
        let forbidden = ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "fopen(", "fwrite(", "pwrite(", "creat(",
                         "unlink(", "rename(", "mkdir(", "truncate(", ".write(to", "write(to:", "forWriting",
                         "createFile(", "createDirectory(", "removeItem(", "moveItem(", "copyItem("]
        for (name, text) in try sourceFiles() {
            for word in forbidden where text.contains(word) {
                Issue.record("\(name) uses \(word): the telemetry layer must only read /sys and /proc")
            }
        }
    }
}
