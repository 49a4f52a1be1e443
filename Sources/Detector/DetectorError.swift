/// What can go wrong turning a model and its description into detections; always names the file.
public enum DetectorError: Error, CustomStringConvertible, Equatable {
    case unreadableFile(path: String, reason: String)
    case invalidDescription(path: String, reason: String)
    case modelNotUnderstood(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "\(path): \(reason)"
        case let .invalidDescription(path, reason): return "model description \(path): \(reason)"
        case let .modelNotUnderstood(path, reason): return "model \(path) is not understood as an SSD detector: \(reason)"
        }
    }
}
