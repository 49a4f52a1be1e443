/// A fixed-size table an optimized kernel fills once at load (lookup tables of 8-bit ops), freed with
/// the kernel closure. A raw pointer rather than an Array keeps uniqueness checks out of inner loops.
final class KernelTable<Entry>: @unchecked Sendable {
    let entries: UnsafeMutablePointer<Entry>
    let count: Int

    /// `entry(i)` gives the value stored at index i.
    init(count: Int, _ entry: (Int) -> Entry) {
        self.count = count
        entries = .allocate(capacity: max(count, 1))
        for i in 0..<count { (entries + i).initialize(to: entry(i)) }
    }

    deinit {
        entries.deinitialize(count: count)
        entries.deallocate()
    }
}

extension Quantized.Element {
    /// The value whose bit pattern is the table index `index` (0...255): UInt8(bitPattern:) order, so
    /// indexing by an element's raw byte needs no offset for either signedness.
    @inline(__always) static func fromTableIndex(_ index: Int) -> Self { Self(truncatingIfNeeded: index) }

    /// This element's raw byte as a table index.
    @inline(__always) var tableIndex: Int { Int(UInt8(truncatingIfNeeded: self)) }
}
