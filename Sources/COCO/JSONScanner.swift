import Foundation

/// A byte-level JSON reader specialised for COCO files: it walks the text once, builds only the
/// values the caller asks for, and skips the rest (e.g. `segmentation` polygons) without allocating.
/// Foundation's JSONSerialization would build a dictionary per annotation and an NSNumber per
/// polygon vertex, which is what makes the 25 MB val2017 file slow to load.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position = 0
    private var skipDepth = 0
    static let maximumSkipDepth = 512
    /// Where the bytes came from, for error messages.
    let source: String

    init(bytes: UnsafeBufferPointer<UInt8>, source: String) {
        self.bytes = bytes
        self.source = source
    }

    enum ValueKind { case object, array, string, number, bool, null }

    // MARK: Errors

    /// A syntax error at the current position, with the line and column a text editor would show.
    func syntaxError(_ message: String, context: String) -> COCOFormatError {
        var line = 1
        var column = 1
        for index in 0..<min(position, bytes.count) {
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        let prefix = context.isEmpty ? "" : "\(context): "
        return COCOFormatError(file: source, message: "\(prefix)\(message) (line \(line), column \(column))")
    }

    // MARK: Structure

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// The kind of the next value, without consuming it.
    mutating func peekKind(context: @autoclosure () -> String) throws -> ValueKind {
        skipWhitespace()
        guard position < bytes.count else { throw syntaxError("unexpected end of file", context: context()) }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        // NaN and Infinity are not JSON, but Python's json.dump writes them: read them as numbers so
        // the loaders can name the entry that holds one.
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "N"), UInt8(ascii: "I"): return .number
        default: throw syntaxError("unexpected character '\(Self.printable(bytes[position]))'", context: context())
        }
    }

    mutating func expect(_ byte: UInt8, context: @autoclosure () -> String) throws {
        skipWhitespace()
        guard position < bytes.count else {
            throw syntaxError("unexpected end of file, expected '\(Self.printable(byte))'", context: context())
        }
        guard bytes[position] == byte else {
            throw syntaxError(
                "expected '\(Self.printable(byte))' but found '\(Self.printable(bytes[position]))'", context: context())
        }
        position += 1
    }

    /// Calls `body` with each key of an object; `body` must consume the member's value.
    mutating func forEachMember(context: @autoclosure () -> String, _ body: (inout JSONScanner, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"), context: context())
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try readString(context: context())
            try expect(UInt8(ascii: ":"), context: context())
            try body(&self, key)
            skipWhitespace()
            guard position < bytes.count else { throw syntaxError("unexpected end of file in object", context: context()) }
            let next = bytes[position]
            position += 1
            if next == UInt8(ascii: "}") { return }
            if next != UInt8(ascii: ",") {
                position -= 1
                throw syntaxError("expected ',' or '}' but found '\(Self.printable(next))'", context: context())
            }
        }
    }

    /// Calls `body` with each element index of an array; `body` must consume the element.
    mutating func forEachElement(context: @autoclosure () -> String, _ body: (inout JSONScanner, Int) throws -> Void) throws {
        try expect(UInt8(ascii: "["), context: context())
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return
        }
        var index = 0
        while true {
            try body(&self, index)
            index += 1
            skipWhitespace()
            guard position < bytes.count else { throw syntaxError("unexpected end of file in array", context: context()) }
            let next = bytes[position]
            position += 1
            if next == UInt8(ascii: "]") { return }
            if next != UInt8(ascii: ",") {
                position -= 1
                throw syntaxError("expected ',' or ']' but found '\(Self.printable(next))'", context: context())
            }
        }
    }

    /// Requires that only whitespace follows the top-level value.
    mutating func expectEnd() throws {
        skipWhitespace()
        if position < bytes.count {
            throw syntaxError("unexpected '\(Self.printable(bytes[position]))' after the end of the JSON value", context: "")
        }
    }

    // MARK: Skipping

    /// Consumes one value of any kind without building it (still checks that it is well formed).
    mutating func skipValue(context: @autoclosure () -> String) throws {
        // Skipping recurses per nesting level: bound it so hostile input cannot exhaust the stack.
        skipDepth += 1
        defer { skipDepth -= 1 }
        guard skipDepth <= Self.maximumSkipDepth else {
            throw syntaxError("values nested deeper than \(Self.maximumSkipDepth) levels", context: context())
        }
        switch try peekKind(context: context()) {
        case .object:
            try forEachMember(context: context()) { scanner, _ in try scanner.skipValue(context: context()) }
        case .array:
            try skipArray(context: context())
        case .string:
            try skipString(context: context())
        case .number:
            _ = try readNumber(context: context())
        case .bool, .null:
            try readLiteral(context: context())
        }
    }

    /// Arrays of numbers (polygons) dominate COCO files: skip them in a tight loop on a local
    /// position, still checking each number's grammar; anything else goes through skipValue.
    private mutating func skipArray(context: @autoclosure () -> String) throws {
        try expect(UInt8(ascii: "["), context: context())
        guard let base = bytes.baseAddress else { throw syntaxError("unexpected end of file in array", context: context()) }
        let end = bytes.count
        var p = position
        defer { position = p }
        @inline(__always) func skipSpace() {
            while p < end, base[p] == 0x20 || base[p] == 0x0A || base[p] == 0x0D || base[p] == 0x09 { p += 1 }
        }
        skipSpace()
        if p < end, base[p] == UInt8(ascii: "]") {
            p += 1
            return
        }
        while true {
            skipSpace()
            guard p < end else { throw syntaxError("unexpected end of file in array", context: context()) }
            if base[p] == UInt8(ascii: "-") || base[p] &- UInt8(ascii: "0") < 10 {
                guard let after = Self.endOfNumber(base, from: p, end: end) else {
                    position = p
                    throw syntaxError("malformed number", context: context())
                }
                p = after
            } else {
                position = p
                try skipValue(context: context())
                p = position
            }
            skipSpace()
            guard p < end else { throw syntaxError("unexpected end of file in array", context: context()) }
            let next = base[p]
            p += 1
            if next == UInt8(ascii: "]") { return }
            if next != UInt8(ascii: ",") {
                p -= 1
                position = p
                throw syntaxError("expected ',' or ']' but found '\(Self.printable(next))'", context: context())
            }
        }
    }

    /// Where the JSON number starting at `start` ends, or nil when it breaks the grammar
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    @inline(__always)
    private static func endOfNumber(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int? {
        var p = start
        if base[p] == UInt8(ascii: "-") { p += 1 }
        let integerStart = p
        while p < end, base[p] &- UInt8(ascii: "0") < 10 { p += 1 }
        if p == integerStart || (p - integerStart > 1 && base[integerStart] == UInt8(ascii: "0")) { return nil }
        if p < end, base[p] == UInt8(ascii: ".") {
            p += 1
            let fractionStart = p
            while p < end, base[p] &- UInt8(ascii: "0") < 10 { p += 1 }
            if p == fractionStart { return nil }
        }
        if p < end, base[p] | 0x20 == UInt8(ascii: "e") {
            p += 1
            if p < end, base[p] == UInt8(ascii: "+") || base[p] == UInt8(ascii: "-") { p += 1 }
            let exponentStart = p
            while p < end, base[p] &- UInt8(ascii: "0") < 10 { p += 1 }
            if p == exponentStart { return nil }
        }
        return p
    }

    private mutating func skipString(context: @autoclosure () -> String) throws {
        try expect(UInt8(ascii: "\""), context: context())
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte == UInt8(ascii: "\\") { position += 1 }
        }
        throw syntaxError("unterminated string", context: context())
    }

    private mutating func readLiteral(context: @autoclosure () -> String) throws {
        for literal in ["true", "false", "null"] {
            let utf8 = Array(literal.utf8)
            if position + utf8.count <= bytes.count, Array(bytes[position..<position + utf8.count]) == utf8 {
                position += utf8.count
                return
            }
        }
        throw syntaxError("invalid literal", context: context())
    }

    // MARK: Values

    mutating func readString(context: @autoclosure () -> String) throws -> String {
        try expect(UInt8(ascii: "\""), context: context())
        let start = position
        // Fast path: no escapes, the bytes are the string.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw syntaxError("control character in string", context: context()) }
            position += 1
        }
        var utf8 = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return String(decoding: utf8, as: UTF8.self) }
            if byte != UInt8(ascii: "\\") {
                if byte < 0x20 { throw syntaxError("control character in string", context: context()) }
                utf8.append(byte)
                continue
            }
            guard position < bytes.count else { break }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4(context: context())
                if (0xD800..<0xDC00).contains(scalar), position + 6 <= bytes.count,
                    bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                {
                    position += 2
                    let low = try readHex4(context: context())
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        scalar = 0xFFFD
                    }
                }
                let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                utf8.append(contentsOf: Array(String(Character(character)).utf8))
            default:
                throw syntaxError("invalid escape '\\\(Self.printable(escape))' in string", context: context())
            }
        }
        throw syntaxError("unterminated string", context: context())
    }

    private mutating func readHex4(context: @autoclosure () -> String) throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw syntaxError("truncated \\u escape", context: context()) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw syntaxError("invalid \\u escape", context: context())
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    /// A JSON number, correctly rounded to the nearest double (as Python's json module does).
    mutating func readNumber(context: @autoclosure () -> String) throws -> Double {
        skipWhitespace()
        let start = position
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "N") || bytes[position] == UInt8(ascii: "I") {
            guard let special = readNonFiniteLiteral() else { throw syntaxError("invalid literal", context: context()) }
            return negative ? -special : special
        }
        var mantissa: UInt64 = 0
        var digitCount = 0
        var decimalExponent = 0
        var integerDigits = 0
        while position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 {
            if digitCount < 19 {
                mantissa = mantissa * 10 + UInt64(bytes[position] &- UInt8(ascii: "0"))
                if mantissa != 0 { digitCount += 1 }
            } else {
                decimalExponent += 1
                digitCount += 1
            }
            integerDigits += 1
            position += 1
        }
        guard integerDigits > 0 else { throw syntaxError("expected a number", context: context()) }
        if integerDigits > 1, bytes[start + (negative ? 1 : 0)] == UInt8(ascii: "0") {
            throw syntaxError("number with a leading zero", context: context())
        }
        var exact = digitCount <= 19
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            var fractionDigits = 0
            while position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 {
                if digitCount < 19 {
                    mantissa = mantissa * 10 + UInt64(bytes[position] &- UInt8(ascii: "0"))
                    decimalExponent -= 1
                    if mantissa != 0 { digitCount += 1 }
                } else if bytes[position] != UInt8(ascii: "0") {
                    exact = false
                }
                fractionDigits += 1
                position += 1
            }
            guard fractionDigits > 0 else { throw syntaxError("expected digits after '.'", context: context()) }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var exponentNegative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            var exponent = 0
            var exponentDigits = 0
            while position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[position] &- UInt8(ascii: "0")) }
                exponentDigits += 1
                position += 1
            }
            guard exponentDigits > 0 else { throw syntaxError("expected digits in exponent", context: context()) }
            decimalExponent += exponentNegative ? -exponent : exponent
        }
        // Clinger's fast path: an exactly representable mantissa times an exact power of ten is
        // correctly rounded by one IEEE multiplication or division.
        if exact, mantissa <= (1 << 53), decimalExponent >= -22, decimalExponent <= 22 {
            var value = Double(mantissa)
            if decimalExponent < 0 {
                value /= Self.powersOfTen[-decimalExponent]
            } else {
                value *= Self.powersOfTen[decimalExponent]
            }
            return negative ? -value : value
        }
        return slowParse(start: start, end: position)
    }

    /// Python's `NaN` / `Infinity` extensions.
    private mutating func readNonFiniteLiteral() -> Double? {
        for (literal, value) in [("NaN", Double.nan), ("Infinity", Double.infinity)] {
            let utf8 = literal.utf8
            guard position + utf8.count <= bytes.count, bytes[position] == utf8.first else { continue }
            if zip(bytes[position..<position + utf8.count], utf8).allSatisfy({ $0 == $1 }) {
                position += utf8.count
                return value
            }
        }
        return nil
    }

    /// Long or extreme numbers: the standard library's parser is correctly rounded and ignores the locale.
    private func slowParse(start: Int, end: Int) -> Double {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        return Double(text) ?? .nan
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// An integer-valued number (ids, widths); rejects fractions.
    mutating func readInteger(context: @autoclosure () -> String) throws -> Int {
        let value = try readNumber(context: context())
        guard value == value.rounded(), abs(value) < 9.0e15 else {
            throw COCOFormatError(file: source, message: "\(context()) is \(value), not an integer")
        }
        return Int(value)
    }

    mutating func readBool(context: @autoclosure () -> String) throws -> Bool {
        skipWhitespace()
        if position + 4 <= bytes.count, bytes[position] == UInt8(ascii: "t") {
            try readLiteral(context: context())
            return true
        }
        if position + 5 <= bytes.count, bytes[position] == UInt8(ascii: "f") {
            try readLiteral(context: context())
            return false
        }
        throw syntaxError("expected true or false", context: context())
    }

    static func printable(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "\\x%02X", byte)
    }
}
