import Foundation
import Testing
@testable import Imaging

/// JPEGs whose header claims odd or absurd sizes: each decodes at the size it claims or is refused
/// with the file named, never a trap and never a multi-gigabyte allocation.
@Suite struct JPEGRobustnessTests {
    /// The fixture with its start-of-frame height and width replaced.
    func withFrameSize(width: Int, height: Int) throws -> Data {
        var bytes = try FixtureFiles.bytes("grey_24x16.jpg")
        let frame = try #require((0..<bytes.count - 9).first { bytes[$0] == 0xFF && (0xC0...0xC2).contains(bytes[$0 + 1]) },
                                 "no start-of-frame marker")
        // FF Cx, length (2), precision (1), height (2), width (2), big-endian.
        bytes[frame + 5] = UInt8(height >> 8); bytes[frame + 6] = UInt8(height & 0xFF)
        bytes[frame + 7] = UInt8(width >> 8); bytes[frame + 8] = UInt8(width & 0xFF)
        return Data(bytes)
    }

    @Test func anAbsurdClaimedSizeIsRefusedBeforeAllocating() throws {
        let data = try withFrameSize(width: 65000, height: 65000)
        let error = try #require(throws: ImageDecodingError.self) {
            try JPEGDecoder.decode(data: data, name: "huge-claim.jpg")
        }
        #expect(error.path == "huge-claim.jpg")
        #expect(error.reason.contains("65000x65000"))
    }

    @Test(arguments: [(1, 1), (3, 7), (25, 17), (8, 1), (1, 9)])
    func oddClaimedSizesDecodeAtThatSizeOrAreRefused(size: (Int, Int)) throws {
        let data = try withFrameSize(width: size.0, height: size.1)
        do {
            let image = try JPEGDecoder.decode(data: data, name: "odd.jpg")
            #expect(image.width == size.0 && image.height == size.1)
            #expect(image.pixels.count == size.0 * size.1 * 3)
        } catch let error as ImageDecodingError {
            #expect(error.path == "odd.jpg")
        }
    }

    @Test func aZeroClaimedSizeIsRefused() throws {
        let error = try #require(throws: ImageDecodingError.self) {
            try JPEGDecoder.decode(data: try withFrameSize(width: 0, height: 16), name: "zero.jpg")
        }
        #expect(error.path == "zero.jpg")
    }
}
