import Testing
@testable import Inference

@Test func moduleLinks() {
    #expect(Bool(true))
}
