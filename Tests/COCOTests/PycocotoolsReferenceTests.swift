import COCO
import DataLocation
import Foundation
import Testing

/// The evaluator against numbers produced by pycocotools 2.0.11 (COCOeval(gt, dt, 'bbox')).
@Suite struct PycocotoolsReferenceTests {
    /// Printed by pycocotools for the COCO API's demo pair (see ../shared/README.md).
    static let demoStats: [Double] = [
        0.5045806987249628, 0.6969727247299577, 0.5729816669904824, 0.5856257209410443,
        0.5193996948036719, 0.5013978986347466, 0.38681277964578054, 0.5936795762842003,
        0.595352982877607, 0.6398109626113442, 0.5664205978994309, 0.5642905982905982,
    ]

    func demoEvaluation() throws -> (COCOGroundTruth, COCOEvaluation) {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let gt = try COCOGroundTruth.load(contentsOf: try dir.requireFile("fixtures/cocoeval/instances_val2014_100.json"))
        let dtPath = try dir.requireFile("fixtures/cocoeval/instances_val2014_fakebbox100_results.json")
        let dt = try COCOResultsFile.load(contentsOf: dtPath)
        return (gt, try COCOBoxEvaluator.evaluate(groundTruth: gt, detections: dt, detectionsSource: dtPath))
    }

    @Test func demoPairMatchesPycocotools() throws {
        let (gt, evaluation) = try demoEvaluation()
        #expect(gt.images.count == 100)
        let stats = evaluation.summary.stats
        try #require(stats.count == 12)
        for (index, name) in COCOSummary.names.enumerated() {
            #expect(abs(stats[index] - Self.demoStats[index]) <= 1e-12, "\(name): \(stats[index]) vs \(Self.demoStats[index])")
        }
    }

    /// Cells of eval['precision'] / eval['recall'] and per-category AP (mean of precision[:, :, k, 0, -1]
    /// over cells > -1), read from pycocotools after evaluate() + accumulate() on the demo pair.
    @Test func demoPairArraysMatchPycocotools() throws {
        let (_, evaluation) = try demoEvaluation()
        #expect(evaluation.categoryIDs.count == 80)
        #expect(evaluation.recall(threshold: 0, category: 0, area: 0, maxDetections: 2) == 0.796)
        #expect(evaluation.precision(threshold: 0, recall: 50, category: 0, area: 0, maxDetections: 2) == 0.9900497512437811)
        // The same cells in numpy's C order [T][R][K][A][M] / [T][K][A][M].
        #expect(evaluation.precisionArray.count == 10 * 101 * 80 * 4 * 3)
        #expect(evaluation.precisionArray[((50 * 80 + 0) * 4 + 0) * 3 + 2] == 0.9900497512437811)
        #expect(evaluation.recallArray[2] == 0.796)
        let perCategory = evaluation.categoryAP
        let expected: [(Int, Double)] = [(1, 0.5326060142444453), (2, 0.4400990099009901), (3, 0.5199068835454973)]
        for (offset, (id, ap)) in expected.enumerated() {
            #expect(perCategory[offset].categoryID == id)
            #expect(abs(perCategory[offset].ap - ap) <= 1e-12, "category \(id)")
        }
    }

    /// Categories are spread over threads; the numbers must not depend on how many.
    @Test func resultsDoNotDependOnWorkerCount() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let gt = try COCOGroundTruth.load(contentsOf: try dir.requireFile("fixtures/cocoeval/instances_val2014_100.json"))
        let dt = try COCOResultsFile.load(
            contentsOf: try dir.requireFile("fixtures/cocoeval/instances_val2014_fakebbox100_results.json"))
        let single = try COCOBoxEvaluator.evaluate(groundTruth: gt, detections: dt, workerCount: 1)
        for workers in [2, 7] {
            let parallel = try COCOBoxEvaluator.evaluate(groundTruth: gt, detections: dt, workerCount: workers)
            #expect(parallel.summary == single.summary)
            #expect(parallel.precisionArray == single.precisionArray)
            #expect(parallel.recallArray == single.recallArray)
        }
    }

    /// The same text pycocotools' summarize() prints for this pair.
    @Test func summaryLinesMatchPycocotoolsFormat() throws {
        let (_, evaluation) = try demoEvaluation()
        let lines = evaluation.summary.lines
        #expect(lines.first == " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505")
        #expect(lines[1] == " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.697")
        #expect(lines[4] == " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.519")
        #expect(lines[6] == " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.387")
        #expect(lines[9] == " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.640")
    }

    /// Hundreds of seeded random sets (scripts/coco/generate_sets.py), each with pycocotools' 12 stats.
    @Test func generatedSetsMatchPycocotools() throws {
        let text = try String(contentsOfFile: fixturePath("generated_sets.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        try #require(lines.count % 3 == 0 && lines.count >= 3 * 300, "expected 3 lines per set, 300+ sets")
        var compared = 0
        var identical = 0
        for start in stride(from: 0, to: lines.count, by: 3) {
            let (name, expected) = try #require(Self.parseHeader(lines[start]), "line \(start + 1)")
            let gt = try parseGroundTruth(lines[start + 1], source: "\(name) gt")
            let dt = try parseResults(lines[start + 2], source: "\(name) dt")
            let stats = try COCOBoxEvaluator.evaluate(groundTruth: gt, detections: dt).summary.stats
            for index in 0..<12 {
                #expect(abs(stats[index] - expected[index]) <= 1e-12,
                        "\(name) \(COCOSummary.names[index]): ours \(stats[index]), pycocotools \(expected[index])")
            }
            compared += 1
            if stats == expected { identical += 1 }
        }
        #expect(compared >= 300)
        // Same arithmetic in the same order: the doubles should not merely be close but equal.
        #expect(identical == compared, "\(compared - identical) sets differ in the last bits")
    }

    /// `{"name":"set-007","stats":[...]}`. Foundation's JSONSerialization on Linux can be one ulp off
    /// when parsing doubles, so the numbers go through Double(String), which rounds correctly.
    static func parseHeader(_ line: String) -> (String, [Double])? {
        guard let nameStart = line.range(of: "\"name\":\""), let statsStart = line.range(of: "\"stats\":["),
              let nameEnd = line[nameStart.upperBound...].firstIndex(of: "\""),
              let statsEnd = line[statsStart.upperBound...].firstIndex(of: "]")
        else { return nil }
        let numbers = line[statsStart.upperBound..<statsEnd].split(separator: ",").compactMap { Double(String($0)) }
        return numbers.count == 12 ? (String(line[nameStart.upperBound..<nameEnd]), numbers) : nil
    }

    /// numpy's np.linspace(.5, 0.95, 10) and np.linspace(0, 1, 101), printed with repr().
    @Test func thresholdsAreNumpysDoubles() {
        #expect(COCOEvaluationParameters.iouThresholds == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95])
        let recall = COCOEvaluationParameters.recallThresholds
        #expect(recall.count == 101)
        #expect(recall[0] == 0 && recall[100] == 1)
        #expect(recall[7] == 0.07)
        // 0.07 + 0.01 in doubles is not what numpy computes (8 * 0.01): 0.08.
        #expect(recall[8] == 0.08)
        #expect(recall[29] == 0.29)
    }
}
