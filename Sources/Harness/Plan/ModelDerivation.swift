/// How a model file of the run was made from a shipped one: a chain of conversions, each written to
/// its own file (v1 fp16 = uint8 -> fp32 -> fp16, so the fp32 file is the fp16's source).
public struct ModelDerivation: Codable, Hashable, Sendable {
    public struct Step: Codable, Hashable, Sendable {
        /// Target precision of this conversion: "fp32" (dequantized) or "fp16" (float16 weights).
        public var precision: String
        /// The file this step writes; the last step's is the model entry's path.
        public var path: String
        /// What the conversion did, from the file's provenance (filled when the file is made or checked).
        public var conversion: String?

        public init(precision: String, path: String, conversion: String? = nil) {
            self.precision = precision
            self.path = path
            self.conversion = conversion
        }
    }

    /// The shipped model the chain starts from (for a file made earlier by `quantize`: the source's
    /// file name as its provenance records it).
    public var sourcePath: String
    /// Precision of the shipped model ("uint8", "int8", ...); nil when not known.
    public var sourcePrecision: String?
    public var steps: [Step]
    /// true: the run makes these files itself (DerivedModelCache checks or remakes them); false: a
    /// file given with --model that `quantize` made earlier, used as it is.
    public var madeByRun: Bool
    /// The last file's `ssd_energy_provenance` JSON (it nests its sources'), filled when the file is
    /// made or checked.
    public var provenance: String?

    public init(sourcePath: String, sourcePrecision: String?, steps: [Step], madeByRun: Bool = true, provenance: String? = nil) {
        self.sourcePath = sourcePath
        self.sourcePrecision = sourcePrecision
        self.steps = steps
        self.madeByRun = madeByRun
        self.provenance = provenance
    }

    /// One line for tables: "fp32 dequantized from uint8 detect.tflite, then fp16 weights".
    public var summary: String {
        let file = sourcePath.split(separator: "/").last.map(String.init) ?? sourcePath
        let chain = steps.map { step in
            step.precision == "fp32" ? "fp32 dequantized" : step.precision == "fp16" ? "fp16 weights" : step.precision
        }
        return "derived from \(sourcePrecision.map { "\($0) " } ?? "")\(file): " + chain.joined(separator: ", then ")
    }
}
