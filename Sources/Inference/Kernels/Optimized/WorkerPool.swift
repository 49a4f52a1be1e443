import CKernels
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Persistent `threads - 1` worker threads; the calling thread takes parts too. One pool per thread
/// count for the whole process (`shared(threads:)`), so kernels and interpreters never create threads.
///
/// A job's parts are dealt out as one contiguous run of part numbers per thread (the caller is thread 0).
/// Each thread takes parts from the front of its own run; a thread whose run is empty takes parts from
/// the back of the others' runs. So a worker that wakes late, is descheduled by the hypervisor or got
/// the expensive tiles does not leave the others waiting, while in the common case each thread touches
/// only its own cache line and data next to what it just worked on. Which thread runs a part never
/// changes what the part computes.
///
/// Workers spin briefly after a job because the next split operator usually follows within
/// microseconds and waking a sleeping thread costs ~70 µs on a VM; then they sleep on a condition
/// variable so an idle process uses no CPU.
final class WorkerPool: @unchecked Sendable {
    /// Thread slots are scanned linearly when stealing; far more threads than this would need a smarter scheme.
    static let maximumThreads = 64
    /// Part numbers are packed into 16 bits of a run word.
    static let maximumParts = 65535

    /// How long an idle worker spins before sleeping.
    static let spinNanoseconds: UInt64 = 200_000

    let threads: Int

    /// Generation of the newest job; workers spin or sleep until it changes.
    private let ticket = Atomic<Int>(0)
    /// Parts of the current job not yet finished; each thread subtracts what it ran when it runs out of
    /// parts, and the caller spins until this reaches zero.
    private let unfinished = Atomic<Int>(0)
    /// Set while one caller owns the pool; a second caller (another interpreter, or a nested run) runs inline.
    private let owned = Atomic<Bool>(false)
    /// Workers asleep (or about to sleep) on `wakeup`; the caller signals only when this is non-zero.
    private let sleepers = Atomic<Int>(0)
    /// One word per thread, each on its own 128-byte block (no false sharing between threads, including
    /// the adjacent-line prefetcher): generation << 32 | front << 16 | back, the thread's parts not yet
    /// taken being [front, back). Claiming a part is one compare-exchange of the whole word, so a thread
    /// late from an old job can never take a part of a new one.
    private let runs: UnsafeMutablePointer<Atomic<Int>>
    private static let runStride = 16
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wakeup = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Written by the owning caller before publishing the runs, read by workers only after claiming a part.
    private var partBody: ((Int, Int) -> Void)?
    private var lastGeneration = 0

    private static let pools = Mutex<[Int: WorkerPool]>([:])

    /// The process-wide pool for `threads` threads (2...maximumThreads), created on first use and kept
    /// for the life of the process.
    static func shared(threads: Int) -> WorkerPool {
        precondition(threads >= 2 && threads <= maximumThreads, "WorkerPool needs 2...\(maximumThreads) threads")
        return pools.withLock { pools in
            if let pool = pools[threads] { return pool }
            let pool = WorkerPool(threads: threads)
            pools[threads] = pool
            return pool
        }
    }

    /// Worker threads started so far by all pools (for tests checking that none leak).
    static var startedWorkerCount: Int {
        pools.withLock { pools in pools.values.reduce(0) { $0 + $1.threads - 1 } }
    }

    private init(threads: Int) {
        self.threads = threads
        let raw = UnsafeMutableRawPointer.allocate(byteCount: threads * Self.runStride * MemoryLayout<Int>.stride,
                                                   alignment: 128)
        runs = raw.bindMemory(to: Atomic<Int>.self, capacity: threads * Self.runStride)
        for thread in 0..<threads { (runs + thread * Self.runStride).initialize(to: Atomic<Int>(0)) }
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wakeup, nil)
        for index in 1..<threads {
            let worker = Thread { [unowned(unsafe) self] in self.workerLoop(slot: index) }
            worker.name = "ssd-energy pool \(threads) worker \(index)"
            worker.start()
        }
    }

    private func run(of thread: Int) -> UnsafeMutablePointer<Atomic<Int>> { runs + thread * Self.runStride }

    /// Calls `body(part, slot)` once for every part in [0, parts), spread over the caller and the workers,
    /// and returns when all are done. `slot` is the thread running the part (0 for the caller,
    /// 1..<threads for the workers), for bodies that keep state per thread from one part to the next.
    /// Thread t starts on parts [t * parts / threads, (t + 1) * parts / threads) in increasing order,
    /// then takes others' from their ends downwards. Returns false without calling anything if another
    /// caller owns the pool.
    func run(parts: Int, _ body: (_ part: Int, _ slot: Int) -> Void) -> Bool {
        precondition(parts >= 1 && parts <= Self.maximumParts)
        guard owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        withoutActuallyEscaping(body) { escapable in
            partBody = escapable
            unfinished.store(parts, ordering: .relaxed)
            lastGeneration = (lastGeneration + 1) & 0x7FFF_FFFF
            let generation = lastGeneration
            for thread in 0..<threads {
                let front = thread * parts / threads, back = (thread + 1) * parts / threads
                run(of: thread).pointee.store(generation << 32 | front << 16 | back, ordering: .relaxed)
            }
            // Sequentially consistent store and load pair with the worker's increment of `sleepers` and
            // reload of `ticket`: at least one side sees the other, so no wake-up is lost. The store
            // also publishes `partBody` and the runs to workers that load the ticket.
            ticket.store(generation, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wakeup)
                pthread_mutex_unlock(lock)
            }
            runParts(of: generation, slot: 0)
            var spins = 0
            while unfinished.load(ordering: .acquiring) != 0 {
                // A worker may have been descheduled mid-part on a busy machine: stop burning its core.
                spins += 1
                if spins > 4096 { sched_yield() } else { ck_cpu_relax() }
            }
            partBody = nil
        }
        owned.store(false, ordering: .releasing)
        return true
    }

    /// Runs parts of job `generation` from the front of thread `slot`'s run, then from the backs of the
    /// others' runs, until none are left (or a newer job replaced it); then counts them as finished.
    private func runParts(of generation: Int, slot: Int) {
        var finished = 0
        while let part = claim(of: slot, generation: generation, fromFront: true) {
            runPart(part, slot: slot)
            finished += 1
        }
        for offset in 1..<threads {
            let victim = (slot + offset) % threads
            while let part = claim(of: victim, generation: generation, fromFront: false) {
                runPart(part, slot: slot)
                finished += 1
            }
        }
        if finished > 0 { unfinished.subtract(finished, ordering: .releasing) }
    }

    /// Claims a part of `thread`'s run of job `generation`: the front one (a thread's own work) or the
    /// back one (stealing), so owner and thief meet in the middle.
    private func claim(of thread: Int, generation: Int, fromFront: Bool) -> Int? {
        let word = run(of: thread)
        var current = word.pointee.load(ordering: .acquiring)
        while current >> 32 == generation {
            let front = (current >> 16) & 0xFFFF, back = current & 0xFFFF
            if front >= back { return nil }
            let (exchanged, original) = word.pointee.compareExchange(
                expected: current, desired: fromFront ? current + (1 << 16) : current - 1,
                ordering: .acquiringAndReleasing)
            if exchanged { return fromFront ? front : back - 1 }
            current = original
        }
        return nil
    }

    /// Separate and not inlined so the worker's copy of the closure is released before the part is
    /// counted as finished (`withoutActuallyEscaping` checks that no copy outlives `run`).
    @inline(never)
    private func runPart(_ part: Int, slot: Int) {
        partBody!(part, slot)
    }

    private func workerLoop(slot: Int) {
        var seenGeneration = 0
        while true {
            seenGeneration = waitForJob(after: seenGeneration)
            runParts(of: seenGeneration, slot: slot)
        }
    }

    /// Spins up to `spinNanoseconds` for a generation other than `generation`, then sleeps until one arrives.
    private func waitForJob(after generation: Int) -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while true {
            let current = ticket.load(ordering: .acquiring)
            if current != generation { return current }
            spins += 1
            if spins & 63 == 0 {
                if DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds { break }
                // On a busy machine let other runnable threads (e.g. the caller) have this core; on an
                // idle one this returns at once.
                sched_yield()
            } else {
                ck_cpu_relax()
            }
        }
        pthread_mutex_lock(lock)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var current = ticket.load(ordering: .sequentiallyConsistent)
        while current == generation {
            pthread_cond_wait(wakeup, lock)
            current = ticket.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(lock)
        return current
    }
}
