import CTurboJPEG
import Foundation

/// Why a JPEG could not be turned into pixels; always names the file.
public struct ImageDecodingError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "cannot decode image \(path): \(reason)" }
}

/// Decodes JPEG files to RGB the way Pillow's `Image.open(p).convert('RGB')` does.
///
/// Both use libjpeg-turbo with the accurate integer DCT and fancy upsampling, so YCbCr and
/// greyscale images come out identical. CMYK/YCCK images are decoded to CMYK and converted with
/// Pillow's formula (see `cmykToRGB`).
///
/// Warnings: libjpeg reports recoverable damage (e.g. extraneous bytes before a marker) as a
/// warning; Pillow ignores those and so do we. A truncated file ("Premature end of JPEG file") is
/// only a warning to libjpeg, but Pillow refuses it by default, and half a grey image is not a
/// valid input for accuracy numbers, so it is an error here.
public enum JPEGDecoder {
    public static func decode(path: String) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageDecodingError(path: path, reason: "file cannot be read")
        }
        return try decode(data: data, name: path)
    }

    /// Far above any COCO image (at most 640x640); refuses headers whose size is damaged or absurd.
    public static let maximumPixels = 64_000_000

    /// `name` is only used in error messages.
    public static func decode(data: Data, name: String) throws -> RGBImage {
        guard !data.isEmpty else { throw ImageDecodingError(path: name, reason: "file is empty") }
        guard let handle = tjInitDecompress() else {
            throw ImageDecodingError(path: name, reason: "libturbojpeg could not create a decompressor")
        }
        defer { tjDestroy(handle) }

        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> RGBImage in
            let jpeg = raw.bindMemory(to: UInt8.self)
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            if tjDecompressHeader3(handle, jpeg.baseAddress, UInt(jpeg.count),
                                   &width, &height, &subsampling, &colorspace) != 0 {
                throw ImageDecodingError(path: name, reason: "not a JPEG or header damaged ("
                                         + errorText(handle) + ")")
            }
            guard width > 0, height > 0 else {
                throw ImageDecodingError(path: name, reason: "JPEG reports size \(width)x\(height)")
            }
            let w = Int(width), h = Int(height)
            // The header alone sets the allocation: a few damaged bytes can claim 65535x65535 (13 GB).
            guard w * h <= maximumPixels else {
                throw ImageDecodingError(path: name, reason: "JPEG reports size \(w)x\(h), more than the "
                                         + "\(maximumPixels / 1_000_000) megapixels this decoder accepts")
            }
            let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
            let channels = isCMYK ? 4 : 3
            let format = isCMYK ? TJPF_CMYK : TJPF_RGB
            var decoded = [UInt8](repeating: 0, count: w * h * channels)
            let status = decoded.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, jpeg.baseAddress, UInt(jpeg.count), out.baseAddress,
                              width, 0, height, Int32(format.rawValue), 0)
            }
            if status != 0 {
                let message = errorText(handle)
                let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
                if !isWarning || message.localizedCaseInsensitiveContains("premature end") {
                    throw ImageDecodingError(path: name, reason: isWarning ? "truncated (\(message))" : message)
                }
            }
            let rgb = isCMYK ? cmykToRGB(decoded) : decoded
            return RGBImage(width: w, height: h, pixels: rgb)
        }
    }

    /// Pillow's CMYK -> RGB: JPEG CMYK is stored Adobe-inverted and Pillow reads it as "CMYK;I"
    /// (so its C = 255 - stored byte); then R = 255 - K' - C*(255-K')/255 with rounding, where
    /// K' is the non-inverted K. With s = stored (inverted) values this is s_k*s_c/255 rounded.
    static func cmykToRGB(_ cmyk: [UInt8]) -> [UInt8] {
        let pixelCount = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
        for p in 0..<pixelCount {
            let nk = Int(cmyk[p * 4 + 3])  // 255 - K, with K = 255 - stored byte
            for c in 0..<3 {
                let ink = 255 - Int(cmyk[p * 4 + c])
                rgb[p * 3 + c] = UInt8(clamping: nk - multiplyDivide255(ink, nk))
            }
        }
        return rgb
    }

    /// Pillow's MULDIV255: a*b/255 rounded, computed as ((a*b+128) + ((a*b+128)>>8)) >> 8.
    static func multiplyDivide255(_ a: Int, _ b: Int) -> Int {
        let t = a * b + 128
        return (t + (t >> 8)) >> 8
    }

    private static func errorText(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown libturbojpeg error" }
        return String(cString: text)
    }
}
