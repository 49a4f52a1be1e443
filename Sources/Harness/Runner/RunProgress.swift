import Foundation

/// Where the run is, for a human watching.
public struct RunStatus: Sendable, Equatable {
    public var unitNumber: Int
    public var unitCount: Int
    public var configurationID: String
    public var repetition: Int
    public var phase: String
    /// Seconds left in this phase, where known.
    public var secondsLeft: Double?
    public var inferences: Int?
    /// A lower bound on the run's remaining time: idle + window of every repetition not yet done.
    public var runSecondsLeftAtLeast: Double?
}

public protocol RunProgress: AnyObject {
    func report(_ status: RunStatus)
    func note(_ message: String)
}

public final class SilentProgress: RunProgress {
    public init() {}
    public func report(_ status: RunStatus) {}
    public func note(_ message: String) {}
}

/// One line per update on stderr (stdout stays clean for piping).
public final class TerminalProgress: RunProgress {
    public init() {}

    public func report(_ status: RunStatus) {
        var line = "[\(status.unitNumber)/\(status.unitCount)] \(status.configurationID) rep \(status.repetition + 1): "
            + status.phase
        if let left = status.secondsLeft { line += String(format: ", %.1f s left", max(0, left)) }
        if let count = status.inferences { line += ", \(count) inferences" }
        if let left = status.runSecondsLeftAtLeast { line += String(format: " (run: at least %.0f s left)", left) }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    public func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
