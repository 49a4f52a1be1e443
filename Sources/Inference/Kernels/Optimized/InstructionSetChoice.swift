import CKernels

/// Which instruction set the optimized kernels use: the best this CPU has, unless a lower one is
/// chosen to compare the paths or to see what a CPU without AVX-512 (or without AVX2) would run.
public enum InstructionSetChoice: String, CaseIterable, Sendable {
    case best
    case avx512
    case avx2
    case portable

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    var isa: ck_isa? {
        switch self {
        case .best: return nil
        case .avx512: return CK_ISA_AVX512
        case .avx2: return CK_ISA_AVX2_FMA
        case .portable: return CK_ISA_PORTABLE
        }
    }

    /// The optimized kernels' instruction set in this process, as a run records it: "avx512 + VNNI",
    /// "avx512", "avx2-fma" or "portable" (after any `makeActive()`).
    public static var activeDescription: String {
        let name = String(cString: ck_isa_name(ck_active_isa()))
        return ck_has_avx512_vnni() != 0 ? name + " + VNNI" : name
    }

    /// Makes every kernel built from now on in this process use this instruction set (the 8-bit kernels
    /// also read it when they run, so choose before building interpreters). Throws when the CPU lacks it.
    public func makeActive() throws {
        let detected = ck_detected_isa()
        guard let isa else {
            ck_force_isa(detected)
            return
        }
        guard isa.rawValue <= detected.rawValue else {
            throw Unavailable(description: "this CPU cannot run the \(rawValue) kernels (it has \(String(cString: ck_isa_name(detected))))")
        }
        ck_force_isa(isa)
    }
}
