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
/// Workers spin briefly after a job because the next split operator usually follows within
/// microseconds and waking a sleeping thread costs ~70 µs on a VM; then they sleep on a condition
/// variable so an idle process uses no CPU.
final class WorkerPool: @unchecked Sendable {
    /// Parts are packed into 8 bits of `ticket`.
    static let maximumThreads = 64

    /// How long an idle worker spins before sleeping.
    static let spinNanoseconds: UInt64 = 200_000

    let threads: Int

    /// The current job as generation << 16 | parts << 8 | next unclaimed part. Claiming a part is one
    /// compare-exchange on this word, so a worker late from an old job can never take a part of a new one.
    private let ticket = Atomic<Int>(0)
    /// Parts of the current job not yet finished; the caller spins until it reaches zero.
    private let unfinished = Atomic<Int>(0)
    /// Set while one caller owns the pool; a second caller (another interpreter, or a nested run) runs inline.
    private let owned = Atomic<Bool>(false)
    /// Workers asleep (or about to sleep) on `wakeup`; the caller signals only when this is non-zero.
    private let sleepers = Atomic<Int>(0)
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wakeup = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Written by the owning caller before publishing `ticket`, read by workers only after claiming a part.
    private var partBody: ((Int) -> Void)?
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
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wakeup, nil)
        for index in 1..<threads {
            let worker = Thread { [unowned(unsafe) self] in self.workerLoop() }
            worker.name = "ssd-energy pool \(threads) worker \(index)"
            worker.start()
        }
    }

    /// Calls `body(part)` once for every part in [0, parts), spread over the caller and the workers, and
    /// returns when all are done. Returns false without calling anything if another caller owns the pool.
    func run(parts: Int, _ body: (Int) -> Void) -> Bool {
        precondition(parts >= 1 && parts <= 255)
        guard owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        withoutActuallyEscaping(body) { escapable in
            partBody = escapable
            unfinished.store(parts, ordering: .relaxed)
            lastGeneration += 1
            let generation = lastGeneration
            // Sequentially consistent store and load pair with the worker's increment of `sleepers` and
            // reload of `ticket`: at least one side sees the other, so no wake-up is lost.
            ticket.store(generation << 16 | parts << 8, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wakeup)
                pthread_mutex_unlock(lock)
            }
            runClaimedParts(of: generation)
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

    /// Claims and runs parts of job `generation` until none are left (or a newer job replaced it).
    private func runClaimedParts(of generation: Int) {
        var current = ticket.load(ordering: .relaxed)
        while current >> 16 == generation {
            let parts = (current >> 8) & 0xFF
            let next = current & 0xFF
            if next >= parts { return }
            let (exchanged, original) = ticket.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                runPart(next)
                unfinished.subtract(1, ordering: .releasing)
                current = current + 1
            } else {
                current = original
            }
        }
    }

    /// Separate and not inlined so the worker's copy of the closure is released before the part is
    /// counted as finished (`withoutActuallyEscaping` checks that no copy outlives `run`).
    @inline(never)
    private func runPart(_ part: Int) {
        partBody!(part)
    }

    private func workerLoop() {
        var seenGeneration = 0
        while true {
            let current = waitForJob(after: seenGeneration)
            seenGeneration = current >> 16
            runClaimedParts(of: seenGeneration)
        }
    }

    /// Spins up to `spinNanoseconds` for a ticket newer than `generation`, then sleeps until one arrives.
    private func waitForJob(after generation: Int) -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while true {
            let current = ticket.load(ordering: .acquiring)
            if current >> 16 != generation { return current }
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
        while current >> 16 == generation {
            pthread_cond_wait(wakeup, lock)
            current = ticket.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(lock)
        return current
    }
}
