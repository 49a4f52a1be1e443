import Testing
@testable import Imaging

@Test func moduleLinks() {
    #expect(Bool(true))
}
