import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Harness

@Test func niceRangeCoversDataOnRoundTicks() {
    let r = SVGChart.niceRange(0.013, 0.087)
    #expect(r.lo <= 0.013 && r.hi >= 0.087)
    #expect(abs(r.step - 0.02) < 1e-12)
    #expect(SVGChart.ticks(r).count >= 4)
}

@Test func chartIsWellFormedXMLWithEveryPointAndLabel() throws {
    var chart = SVGChart(title: "mAP vs energy", xLabel: "J / inference", yLabel: "mAP")
    chart.series = [.init(name: "int8 & co", points: [.init(x: 0.1, y: 0.16), .init(x: 0.2, y: 0.17)],
                          color: "#1f77b4", labels: ["int8", "fp32"])]
    chart.bands = [.init(from: 0, to: 0.15, label: "idle", color: "#999")]
    let svg = chart.render()
    let doc = try XMLDocument(xmlString: svg)
    let circles = try doc.nodes(forXPath: "//*[local-name()='circle']")
    #expect(circles.count == 2)
    #expect(svg.contains("int8 &amp; co"))
}

@Test func footnotesWrapAtWordsWithoutLosingAny() {
    let text = "no energy figure: present but not advancing (virtualised?): perf-power/energy-psys@cpu0 stayed constant"
    let lines = SVGChart.wrap(text, width: 30)
    #expect(lines.allSatisfy { $0.count <= 30 || !$0.contains(" ") })
    #expect(lines.joined(separator: " ") == text)
}

/// Two configurations with nearly the same latency and mAP (v1 fp32 and fp16 in the reference run)
/// printed their names on top of each other; each label now takes the first free place around its point.
@Test func labelsOfClosePointsDoNotOverprint() {
    let first = LabelBox.place("ssd_mobilenet_v1_fp32_derived@1t", pointX: 300, pointY: 100, preferLeft: false, avoiding: [])
    let second = LabelBox.place("ssd_mobilenet_v1_fp16_derived@1t", pointX: 310, pointY: 101, preferLeft: false,
                                avoiding: [first])
    #expect(!first.overlaps(second))
    #expect(first.overlaps(LabelBox.place("ssd_mobilenet_v1_fp16_derived@1t", pointX: 310, pointY: 101,
                                          preferLeft: false, avoiding: [])))
    // A label with room keeps the usual place: above and to the right of its point.
    #expect(first.anchorX == 306 && first.baselineY == 94 && !first.endAnchored)
}
