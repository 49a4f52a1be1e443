extension FloatKernels {
    /// Shapes of a broadcasting binary op, right-aligned (NumPy rules) and padded to `maxRank` dims.
    public struct BroadcastShapes: Sendable, Equatable {
        public static let maxRank = 6
        public let output: [Int]
        /// Element strides of each input per output dimension; 0 where that input is broadcast.
        public let leftStrides: [Int]
        public let rightStrides: [Int]

        /// nil when the shapes do not broadcast.
        public init?(left: [Int], right: [Int]) {
            let rank = max(left.count, right.count)
            guard rank <= Self.maxRank else { return nil }
            let l = Array(repeating: 1, count: Self.maxRank - left.count) + left
            let r = Array(repeating: 1, count: Self.maxRank - right.count) + right
            var out = [Int](repeating: 1, count: Self.maxRank)
            for i in 0..<Self.maxRank {
                guard l[i] == r[i] || l[i] == 1 || r[i] == 1 else { return nil }
                out[i] = l[i] == 1 ? r[i] : l[i]
            }
            func strides(_ shape: [Int]) -> [Int] {
                var s = [Int](repeating: 0, count: Self.maxRank)
                var step = 1
                for i in stride(from: Self.maxRank - 1, through: 0, by: -1) {
                    s[i] = shape[i] == 1 ? 0 : step
                    step *= shape[i]
                }
                return s
            }
            output = out
            leftStrides = strides(l)
            rightStrides = strides(r)
        }

        /// The output shape at the inputs' rank (leading padding dims dropped).
        public func outputShape(rank: Int) -> [Int] { Array(output.suffix(rank)) }
    }

    /// ADD: clamp(x + y) elementwise with broadcasting.
    public static func add(_ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>,
                           output: UnsafeMutablePointer<Float>, shapes: BroadcastShapes, clamp: ClampRange) {
        binary(left, right, output: output, shapes: shapes) { clamp.apply($0 + $1) }
    }

    /// MUL: clamp(x * y) elementwise with broadcasting.
    public static func mul(_ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>,
                           output: UnsafeMutablePointer<Float>, shapes: BroadcastShapes, clamp: ClampRange) {
        binary(left, right, output: output, shapes: shapes) { clamp.apply($0 * $1) }
    }

    /// SUB: clamp(x - y) elementwise with broadcasting.
    public static func sub(_ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>,
                           output: UnsafeMutablePointer<Float>, shapes: BroadcastShapes, clamp: ClampRange) {
        binary(left, right, output: output, shapes: shapes) { clamp.apply($0 - $1) }
    }

    @inline(__always)
    static func binary(_ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>,
                       output: UnsafeMutablePointer<Float>, shapes s: BroadcastShapes,
                       _ f: (Float, Float) -> Float) {
        let count = s.output.reduce(1, *)
        if s.leftStrides == s.rightStrides {  // same shape: no index arithmetic
            for i in 0..<count { output[i] = f(left[i], right[i]) }
            return
        }
        let d = s.output, ls = s.leftStrides, rs = s.rightStrides
        var o = 0
        for i0 in 0..<d[0] {
            for i1 in 0..<d[1] {
                for i2 in 0..<d[2] {
                    for i3 in 0..<d[3] {
                        for i4 in 0..<d[4] {
                            let lBase = i0 * ls[0] + i1 * ls[1] + i2 * ls[2] + i3 * ls[3] + i4 * ls[4]
                            let rBase = i0 * rs[0] + i1 * rs[1] + i2 * rs[2] + i3 * rs[3] + i4 * rs[4]
                            for i5 in 0..<d[5] {
                                output[o] = f(left[lBase + i5 * ls[5]], right[rBase + i5 * rs[5]])
                                o += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
