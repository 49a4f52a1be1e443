import Testing
@testable import Detector

@Test func moduleLinks() {
    #expect(Bool(true))
}
