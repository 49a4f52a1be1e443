import ArgumentParser
import Foundation
import Harness

/// `ssd-energy report results/<run>`: redo every join and re-render every report from the raw files.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Re-render summary.json, tradeoff.csv, report.md and plots of a run from its raw files.")

    @Argument(help: "A run directory written by `ssd-energy run` (contains raw/run.json).")
    var runDirectory: String

    func run() throws {
        let written: [String]
        do {
            written = try ReportRenderer.render(runDirectory: URL(fileURLWithPath: runDirectory))
        } catch let error as RawRunError {
            throw UserFacingError(error.description)
        } catch let error as CSVError {
            throw UserFacingError(error.description)
        }
        for file in written { print(URL(fileURLWithPath: runDirectory).appendingPathComponent(file).path) }
    }
}
