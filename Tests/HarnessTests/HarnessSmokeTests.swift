import Testing
@testable import Harness

@Test func moduleLinks() {
    #expect(Bool(true))
}
