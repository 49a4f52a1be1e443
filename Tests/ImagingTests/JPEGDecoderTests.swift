import Foundation
import Testing
@testable import Imaging

@Suite struct JPEGDecoderTests {
    @Test func greyscaleBecomesRGBLikePillow() throws {
        let image = try JPEGDecoder.decode(path: FixtureFiles.path("grey_24x16.jpg"))
        #expect(image.width == 24 && image.height == 16)
        let difference = ByteDifference(image.pixels, try FixtureFiles.bytes("grey_24x16.pil.rgb"))
        #expect(difference.count == 0, "\(difference)")
        // Grey means R == G == B everywhere.
        let p = image.pixels
        let nonGrey = stride(from: 0, to: p.count, by: 3).filter { (i: Int) -> Bool in p[i] != p[i + 1] || p[i] != p[i + 2] }
        #expect(nonGrey.isEmpty)
    }

    @Test func cmykBecomesRGBLikePillow() throws {
        let image = try JPEGDecoder.decode(path: FixtureFiles.path("cmyk_24x16.jpg"))
        #expect(image.width == 24 && image.height == 16)
        let difference = ByteDifference(image.pixels, try FixtureFiles.bytes("cmyk_24x16.pil.rgb"))
        #expect(difference.count == 0, "\(difference)")
    }

    /// Pillow's cmyk2rgb by hand: stored (Adobe-inverted) bytes C=255-100, K=255-50 mean ink
    /// C=100, K=50: R = (255-50) - round(100*205/255) = 205 - 80 = 125.
    @Test func cmykFormulaByHand() {
        let rgb = JPEGDecoder.cmykToRGB([155, 255, 0, 205])
        #expect(rgb == [125, 205, 0])
    }

    @Test func truncatedFileIsAnErrorNamingIt() throws {
        let path = FixtureFiles.path("truncated_96x64.jpg")
        let error = try #require(throws: ImageDecodingError.self) { try JPEGDecoder.decode(path: path) }
        #expect(error.description.contains(path))
        #expect(error.reason.contains("truncated"))
    }

    @Test func notAJPEGIsAnErrorNamingIt() throws {
        let path = FixtureFiles.path("not_a_jpeg.jpg")
        let error = try #require(throws: ImageDecodingError.self) { try JPEGDecoder.decode(path: path) }
        #expect(error.description.contains(path))
    }

    @Test func missingAndEmptyFilesAreErrors() throws {
        #expect(throws: ImageDecodingError.self) { try JPEGDecoder.decode(path: "/nonexistent/x.jpg") }
        #expect(throws: ImageDecodingError.self) { try JPEGDecoder.decode(data: Data(), name: "empty.jpg") }
    }
}
