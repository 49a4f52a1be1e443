import Foundation

/// Median, 90th percentile and minimum of a set of latencies, in milliseconds.
struct LatencyStatistics: Encodable {
    let medianMs: Double
    let p90Ms: Double
    let minMs: Double
    let samples: Int

    enum CodingKeys: String, CodingKey {
        case medianMs = "median_ms", p90Ms = "p90_ms", minMs = "min_ms", samples
    }

    /// Nearest-rank percentiles of `nanoseconds` (must not be empty).
    init(nanoseconds: [UInt64]) {
        let sorted = nanoseconds.sorted().map { Double($0) / 1e6 }
        func rank(_ fraction: Double) -> Double {
            sorted[min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))]
        }
        medianMs = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        p90Ms = rank(0.9)
        minMs = sorted[0]
        samples = sorted.count
    }
}

/// Peak resident set size of this process so far (VmHWM), in bytes; nil where /proc is missing.
func peakResidentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
    }
    return nil
}

func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
