import Foundation
import Testing
@testable import DataLocation

@Test func explicitDirectoryWins() throws {
    let tmp = FileManager.default.temporaryDirectory.path
    let dir = try DataDirectory.locate(explicit: tmp, environment: ["SSD_ENERGY_DATA": "/nonexistent"])
    #expect(dir.origin == "--data")
}

@Test func missingEnvironmentDirectoryIsAnError() {
    #expect(throws: DataDirectory.LocateError.self) {
        try DataDirectory.locate(environment: ["SSD_ENERGY_DATA": "/nonexistent/ssd-energy-data"])
    }
}

@Test func sharedBesideProjectRootIsFound() throws {
    // Tests run from the project root; ../shared must be there (CI lays it beside the clone).
    let dir = try DataDirectory.locate(environment: [:], callerFile: #filePath)
    #expect(FileManager.default.fileExists(atPath: dir.path("README.md")), "no README.md in \(dir.url.path)")
}
