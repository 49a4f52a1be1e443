#!/usr/bin/env python3
"""A MODEL, not a measurement: 2-thread time of the split 8-bit operators of a model under four ways of
cutting and handing out work (old: 2 ranges claimed in order; 8 or 16 equal ranges per thread with
stealing from the back, as WorkerPool does now; ranges halving in size), with the same unit costs as
pool_bench.swift (ns per multiply-add of the person int8 profile), a fixed worker start latency, 0.05 us
per claim (3x for a steal) and 0.3 us per run. Use it to see which effect a change can have at most,
then measure with pool_bench.swift / ab.py. Usage:
  .build/release/ssd-energy inspect MODEL > /tmp/model.txt && python3 benchmarks/speed/pool_model.py /tmp/model.txt
"""
import sys
ops = []
for line in open(sys.argv[1]):
    conv = '] CONV_2D ' in line; dw = '] DEPTHWISE_CONV_2D ' in line
    if not (conv or dw) or 'MACs' not in line: continue
    out = line.split('-> (')[1]; dims = [int(x) for x in out[out.index('[')+1:out.index(']')].split(',')]
    macs = float(line.split('MACs ')[1]); oh, ow, oc = dims[1], dims[2], dims[3]
    if dw: ops.append(([[macs / oh * 0.088 / 1000] * oh], 0)); continue
    m = oh * ow; k = macs / (m * oc)
    rows = [ow * k * 0.02 / 1000] * oh
    panels = (oc + 15) // 16; ct = (panels + 3) // 4; tiles = []
    for rb in range(0, m, 48):
        for c in range(ct):
            tiles.append(min(48, m - rb) * min(4, panels - c * 4) * 16 * k * 0.0107 / 1000)
    ops.append(([rows, tiles], 1.0))

def ranges_uniform(n, T, R):
    P = n if T == 1 else min(n, T * R)
    return [(p * n // P, (p + 1) * n // P) for p in range(P)]
def ranges_geo(n, T, R):
    if n <= T * R: return [(i, i + 1) for i in range(n)]
    out = []
    for t in range(T):
        s = t * n // T; size = (t + 1) * n // T - s; cuts = [0]
        for p in range(1, R): cuts.append(min(size - (R - p), max(cuts[-1] + 1, size - (size >> p))))
        cuts.append(size); out += [(s + a, s + b) for a, b in zip(cuts, cuts[1:])]
    return out

def simulate(costs, ranges, T, latency, claim, steal_mode):
    # thread t owns ranges [t*P/T, (t+1)*P/T); steal_mode: 'steal' from back, or 'shared' single queue (old)
    P = len(ranges); w = [sum(costs[a:b]) for a, b in ranges]
    clock = [0.0] + [latency] * (T - 1)
    if steal_mode == 'shared':
        nxt = 0
        while nxt < P:
            t = min(range(T), key=lambda i: clock[i]); clock[t] += claim + w[nxt]; nxt += 1
        return max(clock)
    runs = [[t * P // T, (t + 1) * P // T] for t in range(T)]
    active = set(range(T))
    while active:
        t = min(active, key=lambda i: clock[i])
        f, b = runs[t]
        if f < b: runs[t][0] += 1; clock[t] += claim + w[f]; continue
        victims = [v for v in range(T) if runs[v][0] < runs[v][1]]
        if not victims: active.discard(t); continue
        v = victims[0]; runs[v][1] -= 1; clock[t] += 3 * claim + w[runs[v][1]]
    return max(clock)

T = 2
for latency in [0.3, 1.0, 3.0]:
    res = {}
    one = sum(sum(sum(c) for c in calls) + s for calls, s in ops)
    for name, part, mode in [('old 2 parts', lambda n: ranges_uniform(n, T, 1), 'shared'), ('uniform 8', lambda n: ranges_uniform(n, T, 8), 'steal'),
                             ('uniform 16', lambda n: ranges_uniform(n, T, 16), 'steal'), ('halving 8', lambda n: ranges_geo(n, T, 8), 'steal')]:
        total = 0.0
        for calls, serial in ops:
            for c in calls: total += simulate(c, part(len(c)), T, latency, 0.05, mode) + 0.3
            total += serial
        res[name] = total
    print('worker start latency %.1f us: 1 thread %.0f us; ' % (latency, one) + '; '.join('%s %.0f us' % kv for kv in res.items()))
