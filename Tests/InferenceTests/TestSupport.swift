import Foundation
import DataLocation
import TFLiteModel
import Inference

/// Fixtures committed beside the tests (Fixtures/make_fixtures.py writes them from LiteRT).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}

enum SharedModels {
    static let all = [
        "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite",
        "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite",
        "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite",
        "models/ssd_mobilenet_v1_coco_quant/detect.tflite",
        "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
    ]

    static func load(_ relativePath: String) throws -> TFLiteModel {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        return try TFLiteModel(contentsOf: URL(fileURLWithPath: try dir.requireFile(relativePath)))
    }

    static func person(_ precision: String) -> String {
        "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_\(precision).tflite"
    }
}

extension WindowGeometry {
    /// One image's geometry with the same stride and dilation along both axes; output size and padding
    /// as TFLite computes them (WindowGeometry.outputSizeAndPadding).
    /// `rowDilation`: the dilation along the rows when it differs from `dilation`.
    static func image(height: Int, width: Int, filterHeight: Int, filterWidth: Int, stride: Int, dilation: Int,
                      rowDilation: Int? = nil, same: Bool) -> WindowGeometry {
        let rows = outputSizeAndPadding(inputSize: height, filterSize: filterHeight, stride: stride,
                                        dilation: rowDilation ?? dilation, same: same)
        let columns = outputSizeAndPadding(inputSize: width, filterSize: filterWidth, stride: stride,
                                           dilation: dilation, same: same)
        return WindowGeometry(batches: 1, inputHeight: height, inputWidth: width, outputHeight: rows.outputSize,
                              outputWidth: columns.outputSize, filterHeight: filterHeight, filterWidth: filterWidth,
                              strideHeight: stride, strideWidth: stride, dilationHeight: rowDilation ?? dilation,
                              dilationWidth: dilation, padTop: rows.padBefore, padLeft: columns.padBefore)
    }
}
