import Foundation

/// Mean and a two-sided 95 % confidence interval across repetitions (Student's t).
public struct RepetitionSummary: Codable, Equatable, Sendable {
    public var count: Int
    public var mean: Double
    /// Sample standard deviation; nil with fewer than two repetitions.
    public var standardDeviation: Double?
    /// Half-width of the 95 % interval; nil with fewer than two repetitions (no spread to estimate).
    public var ci95HalfWidth: Double?

    public init(_ values: [Double]) {
        let finite = values.filter(\.isFinite)
        count = finite.count
        mean = finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        standardDeviation = nil
        ci95HalfWidth = nil
        if finite.count >= 2 {
            let m = mean
            let variance = finite.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(finite.count - 1)
            let sd = variance.squareRoot()
            standardDeviation = sd
            ci95HalfWidth = StudentT.quantile975(degreesOfFreedom: finite.count - 1)
                * sd / Double(finite.count).squareRoot()
        }
    }
}

/// The 0.975 quantile of Student's t distribution, for 95 % two-sided intervals.
public enum StudentT {
    // Standard table values (e.g. NIST/SEMATECH e-Handbook, Table of t distribution critical values).
    private static let table: [Double] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ]

    public static func quantile975(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1)
        if df <= table.count { return table[df - 1] }
        if df <= 40 { return 2.021 }
        if df <= 60 { return 2.000 }
        if df <= 120 { return 1.980 }
        return 1.960
    }
}

/// Latency quantiles, nearest-rank on the sorted sample (exact, no interpolation).
public struct LatencySummary: Codable, Equatable, Sendable {
    public var count: Int
    public var medianMs: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var minMs: Double
    public var maxMs: Double
    public var meanMs: Double

    public init(milliseconds: [Double]) {
        let sorted = milliseconds.filter(\.isFinite).sorted()
        count = sorted.count
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let r = Int((q * Double(sorted.count)).rounded(.up))
            return sorted[min(max(r, 1), sorted.count) - 1]
        }
        medianMs = rank(0.5)
        p90Ms = rank(0.9)
        p99Ms = rank(0.99)
        minMs = sorted.first ?? .nan
        maxMs = sorted.last ?? .nan
        meanMs = sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count)
    }
}
