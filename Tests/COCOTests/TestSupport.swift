import COCO
import DataLocation
import Foundation

/// Parsing helpers for tests: the loaders take bytes, tests mostly have strings.
func parseGroundTruth(_ text: String, source: String = "gt.json") throws -> COCOGroundTruth {
    try Array(text.utf8).withUnsafeBufferPointer { try COCOGroundTruth.parse($0, source: source) }
}

func parseResults(_ text: String, source: String = "dt.json") throws -> [COCODetection] {
    try Array(text.utf8).withUnsafeBufferPointer { try COCOResultsFile.parse($0, source: source) }
}

/// The error message a throwing call produces, or nil when it does not throw.
func formatErrorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as COCOFormatError {
        return error.description
    } catch {
        return "unexpected error type: \(error)"
    }
}

/// A file committed beside the tests (Tests/COCOTests/Fixtures/...).
func fixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}
