import Foundation

/// Finds the shared models and data (`../shared` beside the project root, or wherever the user says).
///
/// Order: an explicit `--data DIR`, then `SSD_ENERGY_DATA`, then `../shared` relative to the current
/// directory, then `../shared` beside the project root that contains the running executable (so a
/// release binary under `.build/` finds it from anywhere).
public struct DataDirectory: Sendable, Equatable {
    public let url: URL
    /// How the directory was found, for messages ("--data", "SSD_ENERGY_DATA", "../shared").
    public let origin: String

    public init(url: URL, origin: String) {
        self.url = url.standardizedFileURL
        self.origin = origin
    }

    public enum LocateError: Error, CustomStringConvertible {
        case missing(path: String, origin: String)
        case notFound(tried: [String])

        public var description: String {
            switch self {
            case let .missing(path, origin):
                return "data directory \(path) (from \(origin)) does not exist"
            case let .notFound(tried):
                return "no data directory found: pass --data DIR or set SSD_ENERGY_DATA "
                    + "(tried: \(tried.joined(separator: ", ")))"
            }
        }
    }

    /// Resolves the data directory. `explicit` is the value of `--data`, if given.
    public static func locate(
        explicit: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = CommandLine.arguments.first,
        callerFile: String? = nil
    ) throws -> DataDirectory {
        let fm = FileManager.default
        func isDirectory(_ path: String) -> Bool {
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
        }
        if let explicit {
            guard isDirectory(explicit) else { throw LocateError.missing(path: explicit, origin: "--data") }
            return DataDirectory(url: URL(fileURLWithPath: explicit), origin: "--data")
        }
        if let env = environment["SSD_ENERGY_DATA"], !env.isEmpty {
            guard isDirectory(env) else { throw LocateError.missing(path: env, origin: "SSD_ENERGY_DATA") }
            return DataDirectory(url: URL(fileURLWithPath: env), origin: "SSD_ENERGY_DATA")
        }
        var tried: [String] = []
        var candidates: [String] = [URL(fileURLWithPath: currentDirectory).appendingPathComponent("../shared").path]
        // The project root is the first ancestor holding Package.swift.
        for start in [executablePath, callerFile].compactMap({ $0 }) {
            var dir = URL(fileURLWithPath: start).deletingLastPathComponent()
            while dir.path != "/" {
                if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                    candidates.append(dir.appendingPathComponent("../shared").path)
                    break
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        for candidate in candidates {
            let standardized = URL(fileURLWithPath: candidate).standardizedFileURL.path
            tried.append(standardized)
            if isDirectory(standardized) {
                return DataDirectory(url: URL(fileURLWithPath: standardized), origin: "../shared")
            }
        }
        throw LocateError.notFound(tried: tried)
    }

    /// A path inside the data directory.
    public func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    /// Like `path`, but throws naming the file when it is missing.
    public func requireFile(_ relative: String) throws -> String {
        let p = path(relative)
        guard FileManager.default.fileExists(atPath: p) else { throw MissingFile(path: p) }
        return p
    }

    public struct MissingFile: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "required file missing: \(path)" }
    }
}
