import Foundation

/// Number formatting shared by the CSV and Markdown reports. Missing values are written as a word,
/// never as 0.
enum NumberFormat {
    /// Shortest text that reads back as the same Double (CSV: exact data).
    static func exact(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return String(value)
    }

    /// Four significant digits for tables.
    static func short(_ value: Double?, missing: String = "unavailable") -> String {
        guard let value, value.isFinite else { return missing }
        if value == 0 { return "0" }
        if abs(value) >= 1e15 || abs(value) < 1e-3 { return String(format: "%.3e", value) }
        // Counts (instructions, cycles, bytes) read better whole than in exponent form.
        if abs(value) >= 1e4 { return String(format: "%.0f", value) }
        return String(format: "%.4g", value)
    }

    /// "mean ± half-width" (or just the mean with one repetition).
    static func withInterval(_ summary: RepetitionSummary?, missing: String = "unavailable") -> String {
        guard let summary, summary.count > 0 else { return missing }
        guard let half = summary.ci95HalfWidth else { return short(summary.mean) }
        return "\(short(summary.mean)) ± \(short(half))"
    }
}
