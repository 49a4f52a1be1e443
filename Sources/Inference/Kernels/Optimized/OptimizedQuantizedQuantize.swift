// QUANTIZE to 8 bits, equal element for element to Quantized.quantize and Quantized.requantize.

import CKernels

extension OptimizedQuantizedKernels {
    /// float -> int8/uint8. The reference rounds with `rounded(.toNearestOrAwayFromZero)`, a libm call
    /// per element on baseline x86-64; here values below 2^22 in magnitude are rounded by truncating to
    /// an integer and looking at the (exactly computed) fraction, which is the same rounding. Larger
    /// values, infinities and NaN take the reference's expression.
    public struct Quantize<T: Quantized.Element>: Sendable {
        let scale: Float
        let zeroPoint: Int32
        let runner: TileRunner

        public init(scale: Float, zeroPoint: Int32, threads: Int) {
            self.scale = scale
            self.zeroPoint = zeroPoint
            runner = TileRunner(threads: threads)
        }

        public func run(_ input: UnsafePointer<Float>, output: UnsafeMutablePointer<T>, count: Int) {
            let (scale, zeroPoint) = (self.scale, self.zeroPoint)
            let parallel = count >= TileRunner.smallestElementwiseSplit ? runner : TileRunner(threads: 1)
            parallel.run(count) { begin, end in
                for i in begin..<end {
                    let scaled = input[i] / scale
                    let rounded: Int32
                    if abs(scaled) < 4194304 {
                        // Both the truncation and the fraction are exact below 2^22.
                        let truncated = Int32(scaled)
                        let fraction = scaled - Float(truncated)
                        rounded = truncated &+ (fraction >= 0.5 ? 1 : 0) &- (fraction <= -0.5 ? 1 : 0)
                    } else {
                        rounded = Int32(clampingToInt32: scaled.rounded(.toNearestOrAwayFromZero))
                    }
                    let value = rounded &+ zeroPoint
                    output[i] = T(clamped: min(max(value, T.minimumValue), T.maximumValue))
                }
            }
        }
    }

    /// 8-bit -> 8-bit: the result depends only on the input byte, so the reference's expression is
    /// evaluated once per possible input at load.
    public struct Requantize<In: Quantized.Element, Out: Quantized.Element>: Sendable {
        let results: KernelTable<Out>
        let runner: TileRunner
        let isa: ck_isa

        /// `isa` selects the lookup loop's instruction set (tests pass each one the CPU has).
        public init(inputZeroPoint: Int32, outputZeroPoint: Int32, multiplier: Quantized.Multiplier, threads: Int,
                    isa: ck_isa = ck_active_isa()) {
            self.isa = isa
            runner = TileRunner(threads: threads)
            results = KernelTable(count: 256) { index in
                let value = Quantized.multiplyByQuantizedMultiplier(In.fromTableIndex(index).widened &- inputZeroPoint,
                                                                    multiplier) &+ outputZeroPoint
                return Out(clamped: min(max(value, Out.minimumValue), Out.maximumValue))
            }
        }

        public func run(_ input: UnsafePointer<In>, output: UnsafeMutablePointer<Out>, count: Int) {
            // Both element types are single bytes, indexed by their raw byte (tableIndex), so the lookup
            // is a byte table's.
            let (table, isa) = (UnsafeRawPointer(results.entries).assumingMemoryBound(to: UInt8.self), self.isa)
            let x = UnsafeRawPointer(input).assumingMemoryBound(to: UInt8.self)
            let y = UnsafeMutableRawPointer(output).assumingMemoryBound(to: UInt8.self)
            let parallel = count >= TileRunner.smallestElementwiseSplit ? runner : TileRunner(threads: 1)
            parallel.run(count) { begin, end in ck_lookup_bytes(x + begin, end - begin, table, y + begin, isa) }
        }
    }
}
