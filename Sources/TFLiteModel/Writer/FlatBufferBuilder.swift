/// A minimal FlatBuffer builder, written back to front as the FlatBuffers format expects (children
/// before parents, so every offset points forward to something already written).
///
/// Bytes are kept reversed in `reversed`; a position is "bytes from the end of the finished buffer",
/// which stays valid while more is prepended. Alignment is checked against that distance, and the
/// finished buffer is padded to the largest alignment used, so it also holds for absolute positions.
struct FlatBufferBuilder {
    /// Where an object starts, counted in bytes from the end of the buffer.
    struct Offset: Equatable { let fromEnd: Int }

    private var reversed: [UInt8] = []
    private var largestAlignment = 1

    init(reservingCapacity capacity: Int = 1 << 16) { reversed.reserveCapacity(capacity) }

    private var size: Int { reversed.count }

    /// Pads so that after writing `additional` more bytes the position is a multiple of `alignment`.
    private mutating func prepare(alignment: Int, additional: Int) {
        largestAlignment = max(largestAlignment, alignment)
        let padding = (alignment - (size + additional) % alignment) % alignment
        reversed.append(contentsOf: repeatElement(0, count: padding))
    }

    private mutating func putLittleEndian<T: FixedWidthInteger>(_ value: T) {
        // Reversed storage: the most significant byte goes in first.
        let bytes = MemoryLayout<T>.size
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            reversed.append(UInt8(truncatingIfNeeded: value >> T(truncatingIfNeeded: shift)))
        }
    }

    private mutating func putUOffset(to target: Offset) {
        prepare(alignment: 4, additional: 4)
        // Relative to the offset field itself, which will start at size + 4 from the end.
        putLittleEndian(UInt32(size + 4 - target.fromEnd))
    }

    // MARK: vectors and strings

    /// A vector of raw bytes (uint8/int8 data), starting at a multiple of `alignment`.
    mutating func byteVector<C: Collection>(_ bytes: C, alignment: Int = 1) -> Offset where C.Element == UInt8 {
        // The data start is aligned; the length word right before it is then 4-aligned too.
        prepare(alignment: 4, additional: bytes.count)
        prepare(alignment: alignment, additional: bytes.count)
        reversed.append(contentsOf: bytes.reversed())
        putLittleEndian(UInt32(bytes.count))
        return Offset(fromEnd: size)
    }

    mutating func int32Vector(_ values: [Int32]) -> Offset { scalarVector(values) }
    mutating func int64Vector(_ values: [Int64]) -> Offset { scalarVector(values) }
    mutating func float32Vector(_ values: [Float]) -> Offset { scalarVector(values.map { $0.bitPattern }) }

    private mutating func scalarVector<T: FixedWidthInteger>(_ values: [T]) -> Offset {
        let elementSize = MemoryLayout<T>.size
        prepare(alignment: 4, additional: elementSize * values.count)
        prepare(alignment: elementSize, additional: elementSize * values.count)
        for value in values.reversed() { putLittleEndian(value) }
        putLittleEndian(UInt32(values.count))
        return Offset(fromEnd: size)
    }

    mutating func offsetVector(_ targets: [Offset]) -> Offset {
        prepare(alignment: 4, additional: 4 * targets.count)
        for target in targets.reversed() { putUOffset(to: target) }
        putLittleEndian(UInt32(targets.count))
        return Offset(fromEnd: size)
    }

    mutating func string(_ text: String) -> Offset {
        let utf8 = Array(text.utf8)
        prepare(alignment: 4, additional: utf8.count + 1)
        reversed.append(0)  // FlatBuffers strings are NUL-terminated after their counted bytes.
        reversed.append(contentsOf: utf8.reversed())
        putLittleEndian(UInt32(utf8.count))
        return Offset(fromEnd: size)
    }

    // MARK: tables

    /// One field of a table: a scalar (little-endian bytes) or an offset to an object written earlier.
    enum Field {
        case uint8(UInt8)
        case int8(Int8)
        case bool(Bool)
        case int32(Int32)
        case uint32(UInt32)
        case float32(Float)
        case uint64(UInt64)
        case offset(Offset)

        var byteSize: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .int32, .uint32, .float32, .offset: return 4
            case .uint64: return 8
            }
        }
    }

    /// Writes a table with `fields` (schema field index -> value) and its vtable; absent fields take
    /// the schema default when read.
    mutating func table(_ fields: [Int: Field]) -> Offset {
        let tableEnd = size
        var fieldPositions: [Int: Int] = [:]
        // Largest first, so little padding is needed between fields.
        for (index, field) in fields.sorted(by: { ($0.value.byteSize, $0.key) > ($1.value.byteSize, $1.key) }) {
            switch field {
            case .uint8(let v): prepare(alignment: 1, additional: 1); putLittleEndian(v)
            case .int8(let v): prepare(alignment: 1, additional: 1); putLittleEndian(v)
            case .bool(let v): prepare(alignment: 1, additional: 1); putLittleEndian(UInt8(v ? 1 : 0))
            case .int32(let v): prepare(alignment: 4, additional: 4); putLittleEndian(v)
            case .uint32(let v): prepare(alignment: 4, additional: 4); putLittleEndian(v)
            case .float32(let v): prepare(alignment: 4, additional: 4); putLittleEndian(v.bitPattern)
            case .uint64(let v): prepare(alignment: 8, additional: 8); putLittleEndian(v)
            case .offset(let target): putUOffset(to: target)
            }
            fieldPositions[index] = size
        }
        let slotCount = (fields.keys.max() ?? -1) + 1
        let vtableBytes = 4 + 2 * slotCount
        // The table starts with an int32: distance back to its vtable, which goes right before it.
        prepare(alignment: 4, additional: 4)
        putLittleEndian(Int32(vtableBytes))
        let tableStart = size
        for slot in (0..<slotCount).reversed() {
            let relative = fieldPositions[slot].map { tableStart - $0 } ?? 0
            putLittleEndian(UInt16(relative))
        }
        putLittleEndian(UInt16(tableStart - tableEnd))
        putLittleEndian(UInt16(vtableBytes))
        precondition(size == tableStart + vtableBytes, "vtable must sit right before its table")
        return Offset(fromEnd: tableStart)
    }

    /// Finishes the buffer with `root` and the 4-byte file identifier; returns the bytes front to back.
    mutating func finish(root: Offset, fileIdentifier: String) -> [UInt8] {
        let identifier = Array(fileIdentifier.utf8)
        precondition(identifier.count == 4, "file identifiers are 4 bytes")
        prepare(alignment: largestAlignment, additional: 8)
        reversed.append(contentsOf: identifier.reversed())
        putUOffset(to: root)
        return reversed.reversed()
    }
}
