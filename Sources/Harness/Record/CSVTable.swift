/// Minimal RFC 4180 CSV: fields with a comma, quote or line break are quoted, quotes doubled.
public enum CSVTable {
    public static func line(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\n"
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Rows of fields; a malformed file throws, naming the line.
    public static func parse(_ text: String, file: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        var sawAny = false
        while let c = next() {
            sawAny = true
            if inQuotes {
                if c == "\"" {
                    if let following = next() {
                        if following == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = following }
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty else { throw CSVError(file: file, line: line, message: "quote inside an unquoted field") }
                inQuotes = true
            case ",":
                row.append(field); field = ""
            case "\n":
                row.append(field); field = ""
                rows.append(row); row = []
                line += 1
                sawAny = false
            case "\r":
                continue
            default:
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw CSVError(file: file, line: line, message: "unterminated quoted field") }
        if sawAny { row.append(field); rows.append(row) }
        return rows
    }
}

public struct CSVError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { "\(file):\(line): \(message)" }
}
