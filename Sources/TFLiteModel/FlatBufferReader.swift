/// A bounds-checked reader for the FlatBuffers binary format (tables, vectors, strings).
///
/// Every offset, vtable and vector it follows is checked against the file size before it is read,
/// so a truncated or corrupted file ends in a `FlatBufferError`, never in an out-of-range read.
struct FlatBufferReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var count: Int { bytes.count }

    /// Throws unless `[position, position + length)` lies inside the file.
    func requireRange(_ position: Int, _ length: Int, _ what: @autoclosure () -> String) throws {
        guard position >= 0, length >= 0, position <= bytes.count, length <= bytes.count - position else {
            throw FlatBufferError("\(what()) at byte \(position) (length \(length)) runs past the end of the "
                + "\(bytes.count)-byte file")
        }
    }

    // Little-endian loads; callers have checked the range.
    func uncheckedUInt8(_ p: Int) -> UInt8 { bytes[p] }
    func uncheckedUInt16(_ p: Int) -> UInt16 { UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8 }
    func uncheckedUInt32(_ p: Int) -> UInt32 {
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }
    func uncheckedUInt64(_ p: Int) -> UInt64 { UInt64(uncheckedUInt32(p)) | UInt64(uncheckedUInt32(p + 4)) << 32 }

    func uint32(at p: Int, _ what: @autoclosure () -> String) throws -> UInt32 {
        try requireRange(p, 4, what())
        return uncheckedUInt32(p)
    }

    /// The root table, whose offset is the file's first four bytes.
    func rootTable() throws -> FlatBufferTable {
        try requireRange(0, 8, "file header")
        return try table(atOffsetStoredAt: 0, "root table")
    }

    /// Follows the unsigned offset stored at `p` to a table and validates its vtable.
    func table(atOffsetStoredAt p: Int, _ what: @autoclosure () -> String) throws -> FlatBufferTable {
        let target = p + Int(try uint32(at: p, "offset to \(what())"))
        return try table(at: target, what())
    }

    func table(at position: Int, _ what: @autoclosure () -> String) throws -> FlatBufferTable {
        try requireRange(position, 4, "\(what()) table")
        let signedVtableOffset = Int(Int32(bitPattern: uncheckedUInt32(position)))
        let vtable = position - signedVtableOffset
        try requireRange(vtable, 4, "vtable of \(what())")
        let vtableSize = Int(uncheckedUInt16(vtable))
        let objectSize = Int(uncheckedUInt16(vtable + 2))
        guard vtableSize >= 4, vtableSize % 2 == 0 else {
            throw FlatBufferError("vtable of \(what()) at byte \(vtable) has invalid size \(vtableSize)")
        }
        try requireRange(vtable, vtableSize, "vtable of \(what())")
        guard objectSize >= 4 else {
            throw FlatBufferError("\(what()) at byte \(position) has invalid object size \(objectSize)")
        }
        try requireRange(position, objectSize, "\(what())")
        return FlatBufferTable(reader: self, position: position, vtable: vtable, vtableSize: vtableSize,
                               objectSize: objectSize, name: what())
    }
}

struct FlatBufferError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One table: fields are looked up through its vtable; absent fields take their schema default.
struct FlatBufferTable {
    let reader: FlatBufferReader
    let position: Int
    let vtable: Int
    let vtableSize: Int
    let objectSize: Int
    let name: String

    /// Absolute position of field `index` (schema order), or nil when absent. Checks the field's
    /// `size` bytes lie inside the table's object.
    func fieldPosition(_ index: Int, size: Int) throws -> Int? {
        let slot = 4 + 2 * index
        guard slot + 2 <= vtableSize else { return nil }
        let relative = Int(reader.uncheckedUInt16(vtable + slot))
        if relative == 0 { return nil }
        guard relative + size <= objectSize else {
            throw FlatBufferError("field \(index) of \(name) at offset \(relative) lies outside its "
                + "\(objectSize)-byte table")
        }
        return position + relative
    }

    func uint8(_ index: Int, default value: UInt8 = 0) throws -> UInt8 {
        guard let p = try fieldPosition(index, size: 1) else { return value }
        return reader.uncheckedUInt8(p)
    }
    func int8(_ index: Int, default value: Int8 = 0) throws -> Int8 {
        Int8(bitPattern: try uint8(index, default: UInt8(bitPattern: value)))
    }
    func bool(_ index: Int, default value: Bool = false) throws -> Bool {
        try uint8(index, default: value ? 1 : 0) != 0
    }
    func uint32(_ index: Int, default value: UInt32 = 0) throws -> UInt32 {
        guard let p = try fieldPosition(index, size: 4) else { return value }
        return reader.uncheckedUInt32(p)
    }
    func int32(_ index: Int, default value: Int32 = 0) throws -> Int32 {
        Int32(bitPattern: try uint32(index, default: UInt32(bitPattern: value)))
    }
    func float32(_ index: Int, default value: Float = 0) throws -> Float {
        Float(bitPattern: try uint32(index, default: value.bitPattern))
    }
    func uint64(_ index: Int, default value: UInt64 = 0) throws -> UInt64 {
        guard let p = try fieldPosition(index, size: 8) else { return value }
        return reader.uncheckedUInt64(p)
    }

    /// The sub-table referenced by field `index`, or nil when absent.
    func table(_ index: Int, _ what: String) throws -> FlatBufferTable? {
        guard let p = try fieldPosition(index, size: 4) else { return nil }
        return try reader.table(atOffsetStoredAt: p, "\(what) (in \(name))")
    }

    /// Start and element count of the vector referenced by field `index`, range-checked for
    /// `elementSize`-byte elements.
    func vector(_ index: Int, elementSize: Int, _ what: String) throws -> (start: Int, count: Int)? {
        guard let p = try fieldPosition(index, size: 4) else { return nil }
        let vectorPosition = p + Int(reader.uncheckedUInt32(p))
        let count = Int(try reader.uint32(at: vectorPosition, "length of \(what) (in \(name))"))
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw FlatBufferError("\(what) (in \(name)) has absurd length \(count)") }
        try reader.requireRange(vectorPosition + 4, byteCount, "\(what) (\(count) elements, in \(name))")
        return (vectorPosition + 4, count)
    }

    func int32Vector(_ index: Int, _ what: String) throws -> [Int32]? {
        guard let (start, count) = try vector(index, elementSize: 4, what) else { return nil }
        return (0..<count).map { Int32(bitPattern: reader.uncheckedUInt32(start + 4 * $0)) }
    }
    func float32Vector(_ index: Int, _ what: String) throws -> [Float]? {
        guard let (start, count) = try vector(index, elementSize: 4, what) else { return nil }
        return (0..<count).map { Float(bitPattern: reader.uncheckedUInt32(start + 4 * $0)) }
    }
    func int64Vector(_ index: Int, _ what: String) throws -> [Int64]? {
        guard let (start, count) = try vector(index, elementSize: 8, what) else { return nil }
        return (0..<count).map { Int64(bitPattern: reader.uncheckedUInt64(start + 8 * $0)) }
    }
    /// A byte vector as a range of the file (not copied).
    func byteRange(_ index: Int, _ what: String) throws -> Range<Int>? {
        guard let (start, count) = try vector(index, elementSize: 1, what) else { return nil }
        return start..<(start + count)
    }
    func string(_ index: Int, _ what: String) throws -> String? {
        guard let range = try byteRange(index, what) else { return nil }
        return String(decoding: reader.bytes[range], as: UTF8.self)
    }
    /// Each table of a vector of tables.
    func tableVector(_ index: Int, _ what: String) throws -> [FlatBufferTable] {
        guard let (start, count) = try vector(index, elementSize: 4, what) else { return [] }
        return try (0..<count).map { try reader.table(atOffsetStoredAt: start + 4 * $0, "\(what)[\($0)]") }
    }
}
