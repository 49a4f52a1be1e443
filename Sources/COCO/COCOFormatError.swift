/// Bad COCO input: names the file and the entry (e.g. "annotations[17] (id 12345): bbox has 3 numbers").
public struct COCOFormatError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
