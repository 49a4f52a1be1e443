/// What one configuration runs, described for the reports.
public struct RunConfiguration: Codable, Hashable, Sendable {
    public var key: ConfigurationKey
    public var precision: String
    public var modelPath: String
    /// Size of the model file on disk.
    public var modelSizeBytes: Int?
    /// How the run made this model from a shipped one; nil for a file used as given.
    public var derivation: ModelDerivation?

    public init(key: ConfigurationKey, precision: String, modelPath: String, modelSizeBytes: Int?,
                derivation: ModelDerivation? = nil) {
        self.key = key
        self.precision = precision
        self.modelPath = modelPath
        self.modelSizeBytes = modelSizeBytes
        self.derivation = derivation
    }

    public var id: String { key.id }
    public var modelID: String { key.modelID }
    public var threads: Int { key.threads }
}

/// One configuration's inference loop. The harness only times calls to `infer`; everything costly
/// that is not inference (model load, JPEG decode, resizing) belongs in `prepare`, which runs before
/// any measurement.
public protocol InferenceWorkload: AnyObject {
    var configuration: RunConfiguration { get }
    func prepare() throws
    /// Images prepared (valid after `prepare`).
    var imageCount: Int { get }
    /// One inference on image `imageIndex % imageCount`.
    func infer(imageIndex: Int) throws
    /// Peak memory the workload itself attributes to this configuration, when it knows.
    var peakMemoryBytes: Int? { get }
}
