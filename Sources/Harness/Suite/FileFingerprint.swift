import Foundation

/// What a cached file must still be: its size and a 64-bit FNV-1a hash of its bytes. Enough to catch
/// truncation and corruption (a cache is not defended against deliberate collisions).
struct FileFingerprint: Codable, Hashable, Sendable {
    var bytes: Int
    /// 16 hex digits.
    var fnv1a64: String

    /// nil when the file cannot be read.
    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        self.init(data: data)
    }

    init(data: Data) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { raw in
            for byte in raw {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        bytes = data.count
        fnv1a64 = String(hash, radix: 16).leftPadded(to: 16)
    }
}

/// Size and modification time: the cheap check that a source file is the one a cache entry was made
/// from (hashing every shipped model on every run would cost more than the conversion).
struct FileStamp: Codable, Hashable, Sendable {
    var bytes: Int
    /// Seconds since 1970, as the file system reports it.
    var modified: Double

    /// nil when the file does not exist or has no size/date.
    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.intValue,
              let date = attributes[.modificationDate] as? Date else { return nil }
        bytes = size
        modified = date.timeIntervalSince1970
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
