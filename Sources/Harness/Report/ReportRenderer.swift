import Foundation

/// Renders every derived file of a run from its raw files: `summary.json`, `tradeoff.csv`,
/// `report.md` and `plots/*.svg`. The output depends only on the raw files, so re-rendering gives
/// the same bytes.
public enum ReportRenderer {
    public static let derivedFiles = ["summary.json", "tradeoff.csv", "report.md"]

    /// Reads `<run>/raw/` and writes the derived files next to it; returns their relative paths.
    @discardableResult
    public static func render(runDirectory: URL) throws -> [String] {
        let run = try RawRunFiles.read(runDirectory: runDirectory)
        let results = ConfigurationResult.join(run)
        let summary = SummaryDocument(run: run, results: results)
        let plots = RunPlots.render(run, summary)
        var written: [String] = []
        for (name, svg) in plots {
            try AtomicFile.write(svg, to: runDirectory.appendingPathComponent("plots").appendingPathComponent(name))
            written.append("plots/\(name)")
        }
        try AtomicFile.write(try StableJSON.text(summary), to: runDirectory.appendingPathComponent("summary.json"))
        try AtomicFile.write(TradeoffCSV.render(results), to: runDirectory.appendingPathComponent("tradeoff.csv"))
        try AtomicFile.write(MarkdownReport.render(summary, plots: plots.map { "plots/\($0.0)" }),
                             to: runDirectory.appendingPathComponent("report.md"))
        return derivedFiles + written
    }
}
