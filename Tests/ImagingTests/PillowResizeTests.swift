import DataLocation
import Foundation
import Testing
@testable import Imaging

@Suite struct PillowResizeTests {
    /// Raw PIL resizes: model-size downscale, odd non-square sizes (wide downscale, tall upscale).
    @Test(arguments: [
        ("000000000139", 300, 300),
        ("000000000802", 123, 77),
        ("000000005001", 427, 61),
    ])
    func matchesPillowOnSharedImage(stem: String, width: Int, height: Int) throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let image = try JPEGDecoder.decode(path: dir.requireFile("data/coco-val2017-subset/images/\(stem).jpg"))
        let ours = PillowBilinearResize.resize(image, width: width, height: height)
        let pil = try FixtureFiles.bytes("resized_\(stem)_\(width)x\(height).rgb")
        #expect(ours.width == width && ours.height == height)
        let difference = ByteDifference(ours.pixels, pil)
        #expect(difference.count == 0, "\(stem) -> \(width)x\(height): \(difference)")
    }

    @Test func upscaleMatchesPillow() throws {
        let small = RGBImage(width: 20, height: 15, pixels: try FixtureFiles.bytes("small_20x15.rgb"))
        let ours = PillowBilinearResize.resize(small, width: 67, height: 45)
        let difference = ByteDifference(ours.pixels, try FixtureFiles.bytes("upscaled_20x15_to_67x45.rgb"))
        #expect(difference.count == 0, "20x15 -> 67x45: \(difference)")
    }

    /// Hand case: 4 -> 2 pixels in one row. Scale 2, support 2, output 0 centred at 1.0:
    /// taps x=0..2 at filter distances 0.25, 0.25, 0.75 -> weights 0.75, 0.75, 0.25, normalised
    /// 3/7, 3/7, 1/7; so 0,80,160,240 -> (80*3 + 160)/7 = 57.1 -> 57 and, mirrored (taps 1..3),
    /// (80 + 160*3 + 240*3)/7 = 182.9 -> 183.
    @Test func handComputedDownscale() {
        let row: [UInt8] = [0, 80, 160, 240].flatMap { [$0, $0, $0] }
        let out = PillowBilinearResize.resize(RGBImage(width: 4, height: 1, pixels: row), width: 2, height: 1)
        #expect(out.pixels == [57, 57, 57, 183, 183, 183])
    }

    @Test func sameSizeIsIdentity() {
        let image = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        #expect(PillowBilinearResize.resize(image, width: 2, height: 1) == image)
    }
}

/// Decode + resize of every shared COCO image against Pillow's checksums: the claim that our model
/// inputs are byte-identical to those behind the LiteRT reference numbers.
@Suite struct PillowExactnessOverSubsetTests {
    struct Row { var file: String; var width: Int; var height: Int; var decoded: String; var r300: String; var r256: String }

    static func rows() throws -> [Row] {
        let text = String(decoding: try FixtureFiles.bytes("pil_checksums.tsv"), as: UTF8.self)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let f = line.split(separator: "\t").map(String.init)
            return Row(file: f[0], width: Int(f[1])!, height: Int(f[2])!, decoded: f[3], r300: f[4], r256: f[5])
        }
    }

    @Test func allSubsetImagesMatchPillow() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let rows = try Self.rows()
        #expect(rows.count == 206)
        var mismatches: [String] = []
        for row in rows {
            let image = try JPEGDecoder.decode(path: dir.requireFile("data/coco-val2017-subset/images/\(row.file)"))
            if image.width != row.width || image.height != row.height || fnv1a64(image.pixels) != row.decoded {
                mismatches.append("\(row.file) decode")
                continue
            }
            if fnv1a64(PillowBilinearResize.resize(image, width: 300, height: 300).pixels) != row.r300 {
                mismatches.append("\(row.file) 300x300")
            }
            if fnv1a64(PillowBilinearResize.resize(image, width: 256, height: 256).pixels) != row.r256 {
                mismatches.append("\(row.file) 256x256")
            }
        }
        #expect(mismatches.isEmpty, "differ from Pillow: \(mismatches.prefix(20))")
    }
}
