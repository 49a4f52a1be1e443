/// Resizes exactly like Pillow's `Image.resize((w, h), Image.BILINEAR)` (libImaging/Resample.c),
/// so our model inputs are byte-identical to the PIL-preprocessed ones behind the LiteRT reference
/// numbers.
///
/// Pillow's bilinear is a separable convolution with a triangle filter whose support grows with
/// the downscale factor (it antialiases), coefficients rounded to 22-bit fixed point; a horizontal
/// pass into an 8-bit intermediate image, then a vertical pass, each rounding and clipping to 8 bits.
public enum PillowBilinearResize {
    /// Pillow's PRECISION_BITS for 8-bit images: 32 - 8 - 2.
    static let precisionBits = 22

    public static func resize(_ image: RGBImage, width outWidth: Int, height outHeight: Int) -> RGBImage {
        precondition(outWidth > 0 && outHeight > 0, "target size must be positive")
        if outWidth == image.width && outHeight == image.height { return image }

        let horizontal = coefficients(inSize: image.width, outSize: outWidth)
        let vertical = coefficients(inSize: image.height, outSize: outHeight)

        // Pillow runs only the passes whose size changes. Since Pillow 13 it runs the vertical pass
        // first when the height shrinks by more than twice as many pixels as the width; the order
        // changes the 8-bit rounding of the intermediate image, so we follow it.
        let needHorizontal = outWidth != image.width
        let needVertical = outHeight != image.height
        let heightLoss = image.height - outHeight, widthLoss = image.width - outWidth
        let horizontalFirst = !(heightLoss > 0 && heightLoss > widthLoss * 2)

        var pixels = image.pixels
        var width = image.width
        if horizontalFirst {
            // The horizontal pass filters only the rows the vertical pass will read.
            var rows = 0..<image.height
            if needVertical { rows = vertical.first[0]..<(vertical.first[outHeight - 1] + vertical.count[outHeight - 1]) }
            if needHorizontal {
                pixels = horizontalPass(pixels, width: width, rows: rows, outWidth: outWidth, filter: horizontal)
                width = outWidth
            }
            if needVertical {
                pixels = verticalPass(pixels, width: width, rowOffset: needHorizontal ? rows.lowerBound : 0,
                                      outHeight: outHeight, filter: vertical)
            }
        } else {
            if needVertical {
                pixels = verticalPass(pixels, width: width, rowOffset: 0, outHeight: outHeight, filter: vertical)
            }
            if needHorizontal {
                pixels = horizontalPass(pixels, width: width, rows: 0..<outHeight, outWidth: outWidth,
                                        filter: horizontal)
                width = outWidth
            }
        }
        return RGBImage(width: width, height: outHeight, pixels: pixels)
    }

    /// For each output index: the first input index, how many inputs contribute, and their
    /// fixed-point weights (`count` entries starting at `index * stride`).
    struct FilterCoefficients {
        var first: [Int]
        var count: [Int]
        var weights: [Int32]
        var stride: Int
    }

    /// Pillow's `precompute_coeffs` for the bilinear (triangle, support 1) filter over the box
    /// [0, inSize), then `normalize_coeffs_8bpc`. Evaluated in the same order and precision.
    static func coefficients(inSize: Int, outSize: Int) -> FilterCoefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale
        let stride = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize)
        var count = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * stride)
        var doubles = [Double](repeating: 0, count: stride)
        let inverseFilterScale = 1.0 / filterScale
        for xx in 0..<outSize {
            let center = 0.0 + (Double(xx) + 0.5) * scale
            // C's (int) cast truncates toward zero; Swift's Int(Double) does the same.
            var xmin = Int(center - support + 0.5)
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var total = 0.0
            for x in 0..<xmax {
                let w = triangle((Double(x + xmin) - center + 0.5) * inverseFilterScale)
                doubles[x] = w
                total += w
            }
            for x in 0..<stride {
                var w = x < xmax ? doubles[x] : 0
                if x < xmax && total != 0.0 { w /= total }
                let fixed = w * Double(1 << precisionBits)
                weights[xx * stride + x] = Int32(w < 0 ? -0.5 + fixed : 0.5 + fixed)
            }
            first[xx] = xmin
            count[xx] = xmax
        }
        return FilterCoefficients(first: first, count: count, weights: weights, stride: stride)
    }

    static func triangle(_ x: Double) -> Double {
        let a = x < 0 ? -x : x
        return a < 1.0 ? 1.0 - a : 0.0
    }

    /// Pillow's clip8: the fixed-point sum shifted back to 8 bits, clamped to 0...255.
    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        let v = sum >> Int32(precisionBits)
        return v < 0 ? 0 : (v > 255 ? 255 : UInt8(v))
    }

    static func horizontalPass(_ pixels: [UInt8], width: Int, rows: Range<Int>, outWidth: Int,
                               filter: FilterCoefficients) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
        let half = Int32(1) << Int32(precisionBits - 1)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                filter.first.withUnsafeBufferPointer { first in
                    filter.count.withUnsafeBufferPointer { count in
                        filter.weights.withUnsafeBufferPointer { weights in
                            guard let src = src.baseAddress, let dst = dst.baseAddress,
                                  let weights = weights.baseAddress else { return }
                            for (outRow, y) in rows.enumerated() {
                                let row = src + y * width * 3
                                var o = dst + outRow * outWidth * 3
                                for xx in 0..<outWidth {
                                    var r = half, g = half, b = half
                                    let k = weights + xx * filter.stride
                                    var p = row + first[xx] * 3
                                    for x in 0..<count[xx] {
                                        // Wrapping ops as in Pillow's int arithmetic; sums stay in range for 8-bit input.
                                        r = r &+ Int32(p[0]) &* k[x]
                                        g = g &+ Int32(p[1]) &* k[x]
                                        b = b &+ Int32(p[2]) &* k[x]
                                        p += 3
                                    }
                                    o[0] = clip8(r)
                                    o[1] = clip8(g)
                                    o[2] = clip8(b)
                                    o += 3
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Accumulates a whole output row tap by tap (the inner loop runs along the row, so it vectorizes);
    /// integer sums wrap the same in any order, so the bytes equal Pillow's per-pixel loop.
    static func verticalPass(_ pixels: [UInt8], width: Int, rowOffset: Int, outHeight: Int,
                             filter: FilterCoefficients) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * outHeight * 3)
        let half = Int32(1) << Int32(precisionBits - 1)
        let rowBytes = width * 3
        var sums = [Int32](repeating: 0, count: rowBytes)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                sums.withUnsafeMutableBufferPointer { sums in
                    guard let src = src.baseAddress, let dst = dst.baseAddress, let sums = sums.baseAddress else { return }
                    for yy in 0..<outHeight {
                        let base = yy * filter.stride
                        let ymin = filter.first[yy] - rowOffset
                        for i in 0..<rowBytes { sums[i] = half }
                        for y in 0..<filter.count[yy] {
                            let weight = filter.weights[base + y]
                            let row = src + (y + ymin) * rowBytes
                            for i in 0..<rowBytes { sums[i] = sums[i] &+ Int32(row[i]) &* weight }
                        }
                        let o = dst + yy * rowBytes
                        for i in 0..<rowBytes { o[i] = clip8(sums[i]) }
                    }
                }
            }
        }
        return out
    }
}
