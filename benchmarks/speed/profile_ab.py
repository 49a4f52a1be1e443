#!/usr/bin/env python3
"""Per-operator A/B of two ssd-energy binaries: `profile` runs alternate between them, and each operator's
time is the minimum over rounds of its per-run mean (load from other processes only ever adds time).
Prints the operators that got most faster and most slower, per-type totals and the sum over all operators.

    python3 benchmarks/speed/profile_ab.py OLD_BIN NEW_BIN --model M.tflite [--threads 1] [--rounds 7]
"""
import argparse, re, subprocess

p = argparse.ArgumentParser()
p.add_argument("old"); p.add_argument("new")
p.add_argument("--model", required=True); p.add_argument("--threads", type=int, default=1)
p.add_argument("--rounds", type=int, default=7); p.add_argument("--iterations", type=int, default=20)
p.add_argument("--show", type=int, default=10, help="operators to list at each end (most faster, most slower)")
a = p.parse_args()

# "op 7" / "ops 3-5" (a fused chain, keyed by its first operator); binaries before the fourth session
# printed "#7" with the kernel's position instead. Compare binaries that fuse the same chains (or --unfused).
line = re.compile(r"^\s+(?:#|ops? )(\d+)(?:-\d+)?\s+(\S+)\s+([\d.]+) ms")
best = {a.old: {}, a.new: {}}
types = {}
for _ in range(a.rounds):
    for binary in (a.old, a.new):
        out = subprocess.run([binary, "profile", "--model", a.model, "--threads", str(a.threads), "--iterations",
                              str(a.iterations), "--energy-seconds", "0.01", "--top", "1000"],
                             capture_output=True, text=True, check=True).stdout
        for text in out.splitlines():
            m = line.match(text)
            if m:
                op, kind, ms = int(m.group(1)), m.group(2), float(m.group(3))
                types[op] = kind
                best[binary][op] = min(ms, best[binary].get(op, float("inf")))

ops = sorted(set(best[a.old]) & set(best[a.new]))
print(f"{a.model} threads {a.threads}, min over {a.rounds} rounds of {a.iterations}-run means; ratio new/old")
by_change = sorted(ops, key=lambda o: best[a.new][o] - best[a.old][o])
for op in by_change[:a.show] + [o for o in by_change[-a.show:] if o not in by_change[:a.show]]:
    o, n = best[a.old][op], best[a.new][op]
    ratio = f"x{n / o:.3f}" if o > 0 else "-"  # the profile rounds to microseconds
    print(f"  #{op:<4} {types[op]:<20} old {o:7.3f} ms  new {n:7.3f} ms  {ratio}")
for kind in sorted(set(types.values())):
    o = sum(best[a.old][op] for op in ops if types[op] == kind)
    n = sum(best[a.new][op] for op in ops if types[op] == kind)
    print(f"  {kind:<26} old {o:7.3f} ms  new {n:7.3f} ms  " + (f"x{n / o:.3f}" if o > 0 else "-"))
o, n = sum(best[a.old][op] for op in ops), sum(best[a.new][op] for op in ops)
print(f"  all operators              old {o:7.3f} ms  new {n:7.3f} ms  x{n / o:.3f}")
