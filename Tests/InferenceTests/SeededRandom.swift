@testable import Inference

/// SplitMix64: reproducible test inputs without depending on the platform's random generator.
/// Every kernel test draws from this one generator; each file adds the shapes of values it needs.
struct SeededRandom {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    /// Uniform in [0, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { unit() * 2 - 1 }
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
    /// Uniformly random 8-bit elements.
    mutating func elements<T: Quantized.Element>(_ count: Int, _: T.Type) -> [T] {
        (0..<count).map { _ in T(truncatingIfNeeded: next()) }
    }
}
