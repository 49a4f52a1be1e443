/// The machine-readable report of an evaluation, as `ssd-energy cocoeval --json` prints it.
extension COCOEvaluation {
    /// `{"stats": [12 numbers in pycocotools' order], "AP": ..., ..., "ARl": ...,
    ///   "categories": [{"id", "name", "AP"}]}`. Numbers are written in the shortest form that reads
    /// back as the same double; -1 marks what could not be measured, as in pycocotools.
    public func jsonReport(categoryNames: [Int: String]) -> String {
        let stats = summary.stats
        var text = "{\n  \"stats\": [" + stats.map { "\($0)" }.joined(separator: ", ") + "],\n"
        for (name, value) in zip(COCOSummary.names, stats) {
            text += "  \"\(name)\": \(value),\n"
        }
        let categories = categoryAP.map { entry in
            "    {\"id\": \(entry.categoryID), \"name\": \(Self.jsonString(categoryNames[entry.categoryID] ?? "")), \"AP\": \(entry.ap)}"
        }
        text += "  \"categories\": [\n" + categories.joined(separator: ",\n") + "\n  ]\n}"
        return text
    }

    static func jsonString(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }
}
