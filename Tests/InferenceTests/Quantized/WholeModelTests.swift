// The interpreter's quantized dispatch on a whole shared model, against LiteRT's reference kernels
// (Fixtures/make_whole_model_fixture.py).
import DataLocation
import Foundation
import Testing
import TFLiteModel
@testable import Inference

private struct WholeModelFixture: Decodable {
    struct Image: Decodable {
        let shape: [Int]
        let data: String
    }
    struct Output: Decodable {
        let name: String
        let type: String
        let shape: [Int]
        let data: String
    }
    let source: String
    let model: String
    let pixelRepeat: Int
    let smallImage: Image
    let outputs: [Output]
}

@Test func int8PersonModelMatchesLiteRTReferenceBitForBit() throws {
    let url = OpFixture.directory.appendingPathComponent("whole_model_person_int8.json")
    let fixture = try JSONDecoder().decode(WholeModelFixture.self, from: Data(contentsOf: url))
    let data = try DataDirectory.locate(callerFile: #filePath)
    let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: try data.requireFile(fixture.model)))
    let interpreter = try Interpreter(model: model)

    // Each pixel of the stored small image repeated repeat x repeat times, as the generator did.
    let small = try #require(Data(base64Encoded: fixture.smallImage.data))
    let (height, width, channels) = (fixture.smallImage.shape[0], fixture.smallImage.shape[1], fixture.smallImage.shape[2])
    let factor = fixture.pixelRepeat
    let (fullHeight, fullWidth) = (height * factor, width * factor)
    var input = [UInt8](repeating: 0, count: fullHeight * fullWidth * channels)
    for y in 0..<fullHeight {
        for x in 0..<fullWidth {
            let source: Int = ((y / factor) * width + x / factor) * channels
            let target: Int = (y * fullWidth + x) * channels
            for c in 0..<channels { input[target + c] = small[source + c] }
        }
    }
    try interpreter.setInput(0, uint8: input)
    try interpreter.invoke()

    #expect(interpreter.outputs.count == fixture.outputs.count)
    for (index, expected) in fixture.outputs.enumerated() where index < interpreter.outputs.count {
        let actual = interpreter.output(index)
        #expect(actual.info.shape == expected.shape, "output \(index) shape")
        let expectedBytes = try #require(Data(base64Encoded: expected.data))
        let differing = zip(actual.bytes, expectedBytes).filter { $0 != $1 }.count
        #expect(actual.bytes.count == expectedBytes.count && differing == 0,
                "output \(index) '\(expected.name)': \(differing) of \(expectedBytes.count) bytes differ")
    }
}
