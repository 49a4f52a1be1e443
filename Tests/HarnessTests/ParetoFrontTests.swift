import Testing
@testable import Harness

@Test func dominatedPointsLeaveTheFront() {
    // (cost, accuracy): B is cheaper and better than C; D costs most but is the most accurate.
    let cost = [1.0, 2.0, 3.0, 4.0]
    let accuracy = [0.10, 0.20, 0.15, 0.30]
    #expect(ParetoFront.indices(cost: cost, accuracy: accuracy) == [0, 1, 3])
}

@Test func equalCostKeepsOnlyTheMoreAccurate() {
    #expect(ParetoFront.indices(cost: [1, 1, 2], accuracy: [0.1, 0.2, 0.2]) == [1])
}

@Test func nonFiniteValuesAreIgnored() {
    #expect(ParetoFront.indices(cost: [.nan, 1], accuracy: [1, 0.5]) == [1])
}
