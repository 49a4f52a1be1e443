#!/usr/bin/env python3
"""Fused convolution chains against the same operators run one by one, in ONE binary: `profile` and
`profile --unfused` alternate, each kernel's time is the minimum over rounds of its per-run mean (load from
other processes only ever adds time), and each fused kernel is compared with the sum of the operators it
replaces (the profile names the operator indices each kernel runs: "op 7", or "ops 3-5" for a chain).

    python3 benchmarks/speed/chain_ab.py .build/release/ssd-energy --model M.tflite [--threads 1] [--rounds 5]
"""
import argparse, re, subprocess

p = argparse.ArgumentParser()
p.add_argument("binary")
p.add_argument("--model", required=True); p.add_argument("--threads", type=int, default=1)
p.add_argument("--rounds", type=int, default=5); p.add_argument("--iterations", type=int, default=20)
a = p.parse_args()

line = re.compile(r"^\s+ops? (\d+)(?:-(\d+))?\s+(\S+)\s+([\d.]+) ms")
best = {"fused": {}, "unfused": {}}
names = {"fused": {}, "unfused": {}}
for _ in range(a.rounds):
    for mode in ("fused", "unfused"):
        out = subprocess.run([a.binary, "profile", "--model", a.model, "--threads", str(a.threads), "--iterations",
                              str(a.iterations), "--energy-seconds", "0.01", "--top", "1000"]
                             + (["--unfused"] if mode == "unfused" else []),
                             capture_output=True, text=True, check=True).stdout
        for text in out.splitlines():
            m = line.match(text)
            if m:
                k, last, name, ms = int(m.group(1)), int(m.group(2) or m.group(1)), m.group(3), float(m.group(4))
                names[mode][k] = (name, last)
                best[mode][k] = min(best[mode].get(k, ms), ms)

fused_total = unfused_total = 0.0
other_fused = other_unfused = 0.0
print(f"{'operators':>10} {'name':34} {'fused ms':>9} {'unfused ms':>10} {'ratio':>6}")
for k in sorted(names["fused"]):
    name, last = names["fused"][k]
    unfused = sum(best["unfused"][op] for op in range(k, last + 1) if op in best["unfused"])
    fused = best["fused"][k]
    if last > k:
        print(f"{k:>4}-{last:<5} {name:34} {fused:9.3f} {unfused:10.3f} {fused / unfused:6.2f}")
        fused_total += fused
        unfused_total += unfused
    else:
        other_fused += fused
        other_unfused += unfused
print(f"chains: fused {fused_total:.3f} ms, unfused {unfused_total:.3f} ms, ratio {fused_total / unfused_total:.3f}")
print(f"other operators: {other_fused:.3f} ms (fused run), {other_unfused:.3f} ms (unfused run)")
