/// Stages of a run, marked on the sampler's timeline so joins can cut the trace.
public enum Phase: String, Codable, Sendable, CaseIterable {
    case idle
    case warmUp = "warm-up"
    case measure
    case coolDown = "cool-down"
    case end
}

/// A phase boundary: the phase that starts at `timeNanoseconds`, and the sample taken at that moment.
public struct PhaseMark: Codable, Hashable, Sendable {
    public let phase: Phase
    public let timeNanoseconds: UInt64
    public let sampleIndex: Int

    public init(phase: Phase, timeNanoseconds: UInt64, sampleIndex: Int) {
        self.phase = phase
        self.timeNanoseconds = timeNanoseconds
        self.sampleIndex = sampleIndex
    }
}
