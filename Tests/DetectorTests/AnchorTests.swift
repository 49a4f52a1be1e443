import DataLocation
import Foundation
import Testing
@testable import Detector

@Suite struct AnchorTests {
    /// The TF OD API generator with the person model's config reproduces its shipped anchors.
    @Test func generatorReproducesShippedPersonAnchors() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let shipped = try Anchors.load(yxyxFloat32File: dir.requireFile("models/ssdlite_mobilenet_v2_person/anchors_1917x4_yxyx_f32.bin"))
        let generated = SSDAnchorGenerator().generate()
        #expect(shipped.count == 1917)
        #expect(generated.count == 1917)
        var worst: Float = 0
        for (a, b) in zip(shipped.boxes, generated.boxes) {
            worst = max(worst, abs(a.ymin - b.ymin), abs(a.xmin - b.xmin), abs(a.ymax - b.ymax), abs(a.xmax - b.xmax))
        }
        #expect(worst < 1e-6, "largest coordinate difference \(worst)")
    }

    /// First anchor by hand: layer 0 (19x19), reduced boxes, cell (0,0) centre 0.5/19, first spec
    /// scale 0.1 aspect 1: box centre +- 0.05.
    @Test func firstGeneratedAnchorByHand() {
        let first = SSDAnchorGenerator().generate().boxes[0]
        let c = Float(0.5 / 19.0)
        #expect(abs(first.ymin - (c - 0.05)) < 1e-7 && abs(first.xmax - (c + 0.05)) < 1e-7)
    }

    @Test func badAnchorFileIsAnErrorNamingIt() throws {
        let path = FixtureFiles.path("v1quant_postprocess.json")  // 4657 bytes: not a multiple of 16
        let error = try #require(throws: DetectorError.self) { try Anchors.load(yxyxFloat32File: path) }
        #expect(error.description.contains(path))
    }

    @Test func xyxyAndCenterSizeLayouts() {
        #expect(Anchors(xyxy: [0.1, 0.2, 0.3, 0.4]).boxes[0] == NormalizedBox(ymin: 0.2, xmin: 0.1, ymax: 0.4, xmax: 0.3))
        #expect(Anchors(centerSize: [0.5, 0.5, 0.5, 0.25]).boxes[0] == NormalizedBox(ymin: 0.25, xmin: 0.375, ymax: 0.75, xmax: 0.625))
    }
}

@Suite struct BoxDecodingTests {
    @Test func centerSizeByHand() {
        // Anchor y 0.4...0.6, x 0.3...0.7 (centre 0.5,0.5, size 0.2 x 0.4). ty=1, tx=-2, th=5 ln 2, tw=0:
        // centre y 0.5 + 0.1*0.2 = 0.52, x 0.5 - 0.2*0.4 = 0.42, h 0.4, w 0.4 -> 0.32, 0.22, 0.72, 0.62.
        let anchors = Anchors(boxes: [NormalizedBox(ymin: 0.4, xmin: 0.3, ymax: 0.6, xmax: 0.7)])
        let box = BoxCoder.tfObjectDetectionDefault.decode([1, -2, 5 * Float(log(2.0)), 0], anchors: anchors)[0]
        #expect(abs(box.ymin - 0.32) < 1e-6 && abs(box.xmin - 0.22) < 1e-6)
        #expect(abs(box.ymax - 0.72) < 1e-6 && abs(box.xmax - 0.62) < 1e-6)
    }

    @Test func cornerOffsetByHand() {
        // Anchor x 0.2...0.6 (wa 0.4), y 0.1...0.3 (ha 0.2); deltas dx1 0.5, dy1 -1, dx2 0.25, dy2 2:
        // x1 = 0.5*0.4 + 0.2 = 0.4, y1 = -0.2 + 0.1 = -0.1, x2 = 0.1 + 0.6 = 0.7, y2 = 0.4 + 0.3 = 0.7.
        let anchors = Anchors(xyxy: [0.2, 0.1, 0.6, 0.3])
        let box = BoxCoder.cornerOffset.decode([0.5, -1, 0.25, 2], anchors: anchors)[0]
        #expect(abs(box.xmin - 0.4) < 1e-6 && abs(box.ymin - -0.1) < 1e-6)
        #expect(abs(box.xmax - 0.7) < 1e-6 && abs(box.ymax - 0.7) < 1e-6)
    }
}

@Suite struct ScoreConversionTests {
    @Test func sigmoidAndSoftmaxByHand() {
        let s = ScoreConversion.sigmoid(logitScale: 1).apply([0, Float(log(3.0))], columns: 2)
        #expect(abs(s[0] - 0.5) < 1e-7 && abs(s[1] - 0.75) < 1e-6)
        // softmax of [0, ln 3] = [1/4, 3/4]
        let m = ScoreConversion.softmax(logitScale: 1).apply([0, Float(log(3.0))], columns: 2)
        #expect(abs(m[0] - 0.25) < 1e-6 && abs(m[1] - 0.75) < 1e-6)
        #expect(ScoreConversion.identity.apply([0.2, 0.8], columns: 2) == [0.2, 0.8])
    }
}
