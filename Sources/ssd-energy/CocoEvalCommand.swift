import ArgumentParser
import COCO
import Foundation

struct CocoEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cocoeval",
        abstract: "COCO box mAP of a results file, identical to pycocotools' COCOeval(gt, dt, 'bbox').")

    @Option(name: .long, help: "COCO instances file with the ground truth (e.g. instances_val2017.json).")
    var annotations: String

    @Option(name: .long, help: "COCO results file: [{image_id, category_id, bbox: [x,y,w,h], score}].")
    var detections: String

    @Flag(name: .long, help: "Print one JSON object (stats, each stat by name, per-category AP) instead of text.")
    var json = false

    @Flag(name: .long, help: "Print load and evaluation wall-clock times to standard error.")
    var timing = false

    func run() throws {
        let start = DispatchTime.now()
        let groundTruth: COCOGroundTruth
        let results: [COCODetection]
        let evaluation: COCOEvaluation
        do {
            groundTruth = try COCOGroundTruth.load(contentsOf: annotations)
            results = try COCOResultsFile.load(contentsOf: detections)
        } catch let error as COCOFormatError {
            throw UserFacingError(error.description)
        }
        let loaded = DispatchTime.now()
        do {
            evaluation = try COCOBoxEvaluator.evaluate(
                groundTruth: groundTruth, detections: results, detectionsSource: detections)
        } catch let error as COCOFormatError {
            throw UserFacingError(error.description)
        }
        let evaluated = DispatchTime.now()

        if json {
            var names: [Int: String] = [:]
            for category in groundTruth.categories { names[category.id] = category.name }
            print(evaluation.jsonReport(categoryNames: names))
        } else {
            for line in evaluation.summary.lines { print(line) }
        }
        if timing {
            func seconds(_ from: DispatchTime, _ to: DispatchTime) -> String {
                String(format: "%.3f", Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e9)
            }
            FileHandle.standardError.write(Data(
                "load \(seconds(start, loaded)) s, evaluate \(seconds(loaded, evaluated)) s (\(groundTruth.images.count) images, \(groundTruth.annotations.count) annotations, \(results.count) detections)\n".utf8))
        }
    }
}
