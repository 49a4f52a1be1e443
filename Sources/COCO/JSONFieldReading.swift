/// Typed field readers shared by the ground-truth and detection loaders: each names the entry and
/// the field when the value has the wrong type.
extension JSONScanner {
    mutating func requireKind(_ kind: ValueKind, _ what: @autoclosure () -> String) throws {
        let found = try peekKind(context: what())
        guard found == kind else {
            throw COCOFormatError(file: source, message: "\(what()) is \(Self.describe(found)), expected \(Self.describe(kind))")
        }
    }

    func missing(_ field: String, _ entry: String) -> COCOFormatError {
        COCOFormatError(file: source, message: "\(entry): missing \"\(field)\"")
    }

    mutating func readIntegerField(_ entry: @autoclosure () -> String, _ field: String) throws -> Int {
        try requireKind(.number, "\(entry()): \(field)")
        return try readInteger(context: "\(entry()): \(field)")
    }

    mutating func readNumberField(_ entry: @autoclosure () -> String, _ field: String) throws -> Double {
        try requireKind(.number, "\(entry()): \(field)")
        return try readNumber(context: "\(entry()): \(field)")
    }

    mutating func readStringField(_ entry: @autoclosure () -> String, _ field: String) throws -> String {
        try requireKind(.string, "\(entry()): \(field)")
        return try readString(context: "\(entry()): \(field)")
    }

    /// `iscrowd`: 0/1 as COCO writes it, or true/false.
    mutating func readFlagField(_ entry: @autoclosure () -> String, _ field: String) throws -> Bool {
        if try peekKind(context: "\(entry()): \(field)") == .bool {
            return try readBool(context: "\(entry()): \(field)")
        }
        let value = try readIntegerField(entry(), field)
        guard value == 0 || value == 1 else {
            throw COCOFormatError(file: source, message: "\(entry()): \(field) is \(value), expected 0 or 1")
        }
        return value == 1
    }

    /// `[x, y, width, height]`: exactly four numbers.
    mutating func readBoxField(_ entry: @autoclosure () -> String, _ field: String) throws -> COCOBox {
        try requireKind(.array, "\(entry()): \(field)")
        var values = (0.0, 0.0, 0.0, 0.0)
        var count = 0
        try forEachElement(context: "\(entry()): \(field)") { scanner, index in
            try scanner.requireKind(.number, "\(entry()): \(field)[\(index)]")
            let value = try scanner.readNumber(context: "\(entry()): \(field)[\(index)]")
            switch index {
            case 0: values.0 = value
            case 1: values.1 = value
            case 2: values.2 = value
            case 3: values.3 = value
            default: break
            }
            count += 1
        }
        guard count == 4 else {
            throw COCOFormatError(file: source, message: "\(entry()): \(field) has \(count) numbers, expected 4 (x, y, width, height)")
        }
        return COCOBox(x: values.0, y: values.1, width: values.2, height: values.3)
    }

    static func describe(_ kind: ValueKind) -> String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}
