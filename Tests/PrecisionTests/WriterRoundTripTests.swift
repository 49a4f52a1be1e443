import DataLocation
import Foundation
import Testing
import TFLiteModel

/// Every shared model, copied into a ModelDraft and written again, reads back identical in structure
/// and constant bytes with our reader.
@Suite struct WriterRoundTripTests {
    static let models = [
        "models/ssd_mobilenet_v1_coco_quant/detect.tflite",
        "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
        "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite",
        "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite",
    ]

    @Test(arguments: models)
    func roundTrip(path: String) throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let original = try TFLiteModel(contentsOf: URL(fileURLWithPath: try dir.requireFile(path)))
        let bytes = try ModelDraft(original).serialized()
        let copy = try TFLiteModel(bytes: bytes, fileName: "copy of \(path)")
        #expect(Array(copy.bytes[4..<8]) == Array("TFL3".utf8))
        #expect(copy.version == 3)
        let a = original.mainSubgraph, b = copy.mainSubgraph
        #expect(a.inputs == b.inputs && a.outputs == b.outputs)
        #expect(a.tensors.count == b.tensors.count)
        for (x, y) in zip(a.tensors, b.tensors) {
            #expect(x.name == y.name && x.shape == y.shape && x.type == y.type, "tensor \(x.index)")
            #expect(x.quantization == y.quantization, "tensor \(x.index) '\(x.name)' quantization")
            #expect(original.constantData(of: x).map(Array.init) == copy.constantData(of: y).map(Array.init),
                    "tensor \(x.index) '\(x.name)' data")
        }
        #expect(a.operators.count == b.operators.count)
        for (x, y) in zip(a.operators, b.operators) {
            #expect(original.code(of: x).builtinCode == copy.code(of: y).builtinCode)
            #expect(original.code(of: x).customCode == copy.code(of: y).customCode)
            #expect(original.code(of: x).version == copy.code(of: y).version)
            #expect(x.inputs == y.inputs && x.outputs == y.outputs && x.builtinOptions == y.builtinOptions, "op \(x.index)")
            #expect(Array(original.bytes[x.customOptions]) == Array(copy.bytes[y.customOptions]), "op \(x.index) custom options")
        }
        #expect(original.metadata.map(\.name) == copy.metadata.map(\.name))
        // Constant data is written 16-byte aligned, as the converter does.
        for tensor in b.tensors { if let data = copy.constantData(of: tensor) { #expect(data.startIndex % 16 == 0) } }
    }
}
