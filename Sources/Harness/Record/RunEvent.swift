/// Something that happened to the run itself rather than to a sampled source: an interruption, a
/// resumption, a results write that failed. Listed with time and source in summary.json and report.md.
public struct RunEvent: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// The run stopped before its schedule ended (signal, failure).
        case interrupted
        /// `ssd-energy run --resume` continued the run.
        case resumed
        /// Writing the results folder failed; the files on disk are the last whole write.
        case writeFailed = "write-failed"
        /// A performance counter that counted in an earlier window could not be read in this one.
        case counterFailed = "counter-failed"
    }

    /// Wall-clock time, ISO 8601 (sessions of a resumed run do not share a monotonic clock origin).
    public var time: String
    public var kind: Kind
    /// What raised it: "SIGINT", "results folder", "resume", ...
    public var source: String
    public var detail: String

    public init(time: String, kind: Kind, source: String, detail: String) {
        self.time = time
        self.kind = kind
        self.source = source
        self.detail = detail
    }
}
