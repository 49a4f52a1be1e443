import Foundation
import Testing
import TFLiteModel
@testable import Inference

@Test func npyRoundTripKeepsTypeShapeAndBytes() throws {
    let array = NumPyArray(type: .float32, shape: [1, 2, 3], bytes: [Float](arrayLiteral: 1, 2, 3, 4, 5, 6)
        .withUnsafeBytes { Array($0) })
    let encoded = try array.npyBytes()
    // Header padded so the data starts at a multiple of 64 bytes (the .npy spec).
    #expect((encoded.count - 24) % 64 == 0)
    #expect(try NumPyArray(npyBytes: encoded) == array)
    let scalarLike = NumPyArray(type: .uint8, shape: [3], bytes: [7, 8, 9])
    #expect(try NumPyArray(npyBytes: try scalarLike.npyBytes()) == scalarLike)
}

@Test func numpyWrittenFileIsRead() throws {
    // Written by numpy.save in Fixtures/make_fixtures.py: float32 (1, 1917, 2).
    let array = try NumPyArray(contentsOf: Fixtures.url("e2e_000000000139_fp32_1.npy"))
    #expect(array.type == .float32)
    #expect(array.shape == [1, 1917, 2])
    #expect(array.bytes.count == 1917 * 2 * 4)
}

@Test func badNpyFilesAreRejectedWithTheirName() throws {
    #expect(throws: NumPyArray.FormatError.self) { try NumPyArray(npyBytes: [1, 2, 3]) }
    var truncated = try NumPyArray(type: .float32, shape: [4], bytes: [UInt8](repeating: 0, count: 16)).npyBytes()
    truncated.removeLast(3)
    #expect(throws: NumPyArray.FormatError.self) { try NumPyArray(npyBytes: truncated) }
    do {
        _ = try NumPyArray(contentsOf: URL(fileURLWithPath: "/nonexistent/x.npy"))
        Issue.record("missing file read")
    } catch {
        #expect("\(error)".contains("/nonexistent/x.npy"))
    }
}
