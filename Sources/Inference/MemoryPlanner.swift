/// Places activation tensors in one arena so that tensors alive at the same time never overlap,
/// greedily by decreasing size (the strategy of TFLite's GreedyMemoryPlanner).
enum MemoryPlanner {
    struct Request {
        let tensorIndex: Int
        let byteCount: Int
        /// First and last step (inclusive) during which the tensor must keep its contents.
        let firstStep: Int
        let lastStep: Int
    }

    /// Offsets are multiples of this, so every tensor starts aligned for SIMD loads.
    static let alignment = 64

    static func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// Returns an offset per tensor index and the arena size needed.
    static func plan(_ requests: [Request]) -> (offsets: [Int: Int], arenaBytes: Int) {
        let order = requests.sorted {
            $0.byteCount != $1.byteCount ? $0.byteCount > $1.byteCount : $0.tensorIndex < $1.tensorIndex
        }
        var placed: [(request: Request, offset: Int)] = []
        var offsets: [Int: Int] = [:]
        var arenaBytes = 0
        for request in order {
            let size = aligned(max(request.byteCount, 1))
            // Intervals already used by tensors whose lifetimes overlap this one, by offset.
            let conflicts = placed.filter {
                $0.request.firstStep <= request.lastStep && request.firstStep <= $0.request.lastStep
            }.map { (start: $0.offset, end: $0.offset + aligned(max($0.request.byteCount, 1))) }
                .sorted { $0.start < $1.start }
            var candidate = 0
            for interval in conflicts {
                if candidate + size <= interval.start { break }
                candidate = max(candidate, interval.end)
            }
            placed.append((request, candidate))
            offsets[request.tensorIndex] = candidate
            arenaBytes = max(arenaBytes, candidate + size)
        }
        return (offsets, arenaBytes)
    }
}
