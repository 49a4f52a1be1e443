#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a sysfs/procfs file could not be read. Each case names the file (as the kernel would name it,
/// i.e. without the reader's root) so a message can say which one.
public enum SysfsReadError: Error, Equatable, Sendable, CustomStringConvertible {
    case missing(path: String)
    case permissionDenied(path: String)
    /// The path exists but is not a readable regular file (a directory, a socket...).
    case notAFile(path: String)
    case malformed(path: String, content: String, expected: String)
    case ioError(path: String, errno: Int32)

    public var path: String {
        switch self {
        case let .missing(path), let .permissionDenied(path), let .notAFile(path),
             let .malformed(path, _, _), let .ioError(path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case let .missing(path): return "\(path): does not exist"
        case let .permissionDenied(path): return "\(path): permission denied"
        case let .notAFile(path): return "\(path): not a readable file"
        case let .malformed(path, content, expected):
            return "\(path): expected \(expected), found \"\(content.prefix(60))\""
        case let .ioError(path, code): return "\(path): read failed (\(String(cString: strerror(code))))"
        }
    }
}

/// Read-only access to the kernel's /sys and /proc files.
///
/// Every probe goes through one of these, so `--sysfs-root` and the tests can point the whole layer at
/// a captured or simulated tree. Paths are always given as the kernel names them ("/sys/class/...").
public protocol SysfsReading: Sendable {
    /// The directory that stands for "/" ("/" on the live system).
    var root: String { get }
    /// The whole file as text, trailing newline removed.
    func readText(_ path: String) throws -> String
    /// Entry names of a directory (sorted), or nil when it does not exist or is not a directory.
    func listDirectory(_ path: String) -> [String]?
    func isDirectory(_ path: String) -> Bool
    func exists(_ path: String) -> Bool
}

extension SysfsReading {
    /// True when this reader looks at the running kernel rather than a captured tree.
    public var isLiveSystem: Bool { root == "/" }

    public func readUnsignedInteger(_ path: String) throws -> UInt64 {
        let text = try readText(path).trimmingWhitespace()
        guard let value = UInt64(text) else {
            throw SysfsReadError.malformed(path: path, content: text, expected: "an unsigned integer")
        }
        return value
    }

    public func readInteger(_ path: String) throws -> Int64 {
        let text = try readText(path).trimmingWhitespace()
        guard let value = Int64(text) else {
            throw SysfsReadError.malformed(path: path, content: text, expected: "an integer")
        }
        return value
    }

    public func readDouble(_ path: String) throws -> Double {
        let text = try readText(path).trimmingWhitespace()
        guard let value = Double(text) else {
            throw SysfsReadError.malformed(path: path, content: text, expected: "a number")
        }
        return value
    }

    /// The file's text, or nil for any failure (for optional attributes such as labels).
    public func readOptionalText(_ path: String) -> String? {
        (try? readText(path)).map { $0.trimmingWhitespace() }
    }
}

/// The real reader: POSIX open/read, no Foundation, so a 1 ms sampler stays cheap.
public struct SysfsReader: SysfsReading {
    public let root: String

    public init(root: String = "/") {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed.isEmpty ? "/" : trimmed
    }

    /// Where `path` lives on disk under this root.
    public func hostPath(_ path: String) -> String {
        root == "/" ? path : root + (path.hasPrefix("/") ? path : "/" + path)
    }

    public func readText(_ path: String) throws -> String {
        let fd = open(hostPath(path), O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw Self.error(for: errno, path: path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.error(for: errno, path: path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    public func listDirectory(_ path: String) -> [String]? {
        guard let directory = opendir(hostPath(path)) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted(by: naturalOrder)
    }

    public func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(hostPath(path), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(hostPath(path), &info) == 0
    }

    static func error(for code: Int32, path: String) -> SysfsReadError {
        switch code {
        case ENOENT, ENOTDIR, ENODEV, ENXIO: return .missing(path: path)
        case EACCES, EPERM: return .permissionDenied(path: path)
        case EISDIR: return .notAFile(path: path)
        default: return .ioError(path: path, errno: code)
        }
    }
}

/// Orders "cpu2" before "cpu10" and "hwmon9" before "hwmon10", as a person would.
public func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
    let left = splitDigits(lhs), right = splitDigits(rhs)
    for (a, b) in zip(left, right) where a != b {
        if let x = UInt64(a), let y = UInt64(b) { return x < y }
        return a < b
    }
    return left.count < right.count
}

private func splitDigits(_ text: String) -> [String] {
    var parts: [String] = []
    var current = ""
    var inDigits = false
    for character in text {
        let isDigit = character.isASCII && character.isNumber
        if !current.isEmpty && isDigit != inDigits {
            parts.append(current)
            current = ""
        }
        inDigits = isDigit
        current.append(character)
    }
    if !current.isEmpty { parts.append(current) }
    return parts
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
