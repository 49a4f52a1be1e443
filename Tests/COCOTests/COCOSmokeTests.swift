import Testing
@testable import COCO

@Test func moduleLinks() {
    #expect(Bool(true))
}
