import Testing
@testable import Harness

@Test func confidenceIntervalByHand() {
    // Values 1,2,3: mean 2, s = 1, t(0.975, 2) = 4.303, half-width = 4.303 / sqrt(3).
    let s = RepetitionSummary([1, 2, 3])
    #expect(s.mean == 2)
    #expect(abs(s.standardDeviation! - 1) < 1e-12)
    #expect(abs(s.ci95HalfWidth! - 4.303 / 3.0.squareRoot()) < 1e-12)
}

@Test func oneRepetitionHasNoInterval() {
    #expect(RepetitionSummary([5]).ci95HalfWidth == nil)
    #expect(RepetitionSummary([5]).standardDeviation == nil)
}

@Test func nearestRankQuantiles() {
    let l = LatencySummary(milliseconds: (1...100).map(Double.init))
    #expect(l.medianMs == 50)
    #expect(l.p90Ms == 90)
    #expect(l.p99Ms == 99)
    #expect(l.minMs == 1 && l.maxMs == 100)
}
