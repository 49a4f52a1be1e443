import Testing
@testable import TFLiteModel

@Test func moduleLinks() {
    #expect(Bool(true))
}
