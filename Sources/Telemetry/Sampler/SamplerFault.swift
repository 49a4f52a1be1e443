/// Something wrong with one domain during sampling. Recorded on each change of state (not every
/// sample); the sampler keeps going.
public struct SamplerFault: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// The counter did not change for `Sampler.Configuration.stuckAfterNanoseconds`.
        case stuck
        /// A stuck counter advanced again.
        case resumed
        /// The file disappeared.
        case vanished
        case permissionDenied = "permission-denied"
        /// Any other read failure (not a file, malformed content, I/O error).
        case unreadable
        /// Readable again after one of the failures above; counting restarts from this value
        /// (energy during the gap is not guessed).
        case recovered
        /// The counter went down by more than a plausible wrap allows; counting restarts from here.
        case backwardsJump = "backwards-jump"
    }

    public let domainID: String
    public let timeNanoseconds: UInt64
    public let kind: Kind
    public let detail: String
}
