/// A model this tool cannot convert as asked, with the file and the reason.
public struct ConversionError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let reason: String
    public init(file: String, reason: String) { self.file = file; self.reason = reason }
    public var description: String { "model \(file): \(reason)" }
}
