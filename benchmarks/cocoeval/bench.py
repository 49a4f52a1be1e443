#!/usr/bin/env python3
"""Times `ssd-energy cocoeval` (release build), pycocotools and faster-coco-eval on the same files.

    swift build -c release --product ssd-energy
    benchmarks/cocoeval/bench.py [--repeats 5] [--binary .build/release/ssd-energy]

Datasets: the 206-image val2017 subset (../shared) with detections from fake_detections.py, and a
generated 5,000-image / 36,000-detection set (scripts/coco/generate_sets.py benchmark). Both are made
under --work-dir at run time. Load = reading ground truth + results; eval = evaluate + accumulate +
summarize. Python tools are timed in-process (interpreter start-up and imports excluded); ours is
timed inside the process (--timing) and also as a whole process from the outside. Medians of
--repeats runs. Every tool's 12 stats are compared with pycocotools'.
"""
import argparse
import contextlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "coco"))


def time_python(coco_class, eval_class, gt_path, dt_path):
    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        gt = coco_class(gt_path)
        dt = gt.loadRes(dt_path)
        loaded = time.perf_counter()
        evaluator = eval_class(gt, dt, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        done = time.perf_counter()
    return loaded - start, done - loaded, [float(x) for x in evaluator.stats]


def time_ours(binary, gt_path, dt_path):
    start = time.perf_counter()
    result = subprocess.run([binary, "cocoeval", "--annotations", gt_path, "--detections", dt_path, "--json", "--timing"],
                            capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    match = re.search(r"load ([0-9.]+) s, evaluate ([0-9.]+) s", result.stderr)
    stats = json.loads(result.stdout)["stats"]
    return float(match.group(1)), float(match.group(2)), stats, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "ssd-energy"))
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    parser.add_argument("--work-dir", default="/tmp/cocoeval-bench")
    args = parser.parse_args()

    from pycocotools.coco import COCO as PyCOCO
    from pycocotools.cocoeval import COCOeval as PyCOCOeval
    from faster_coco_eval import COCO as FastCOCO, COCOeval_faster
    import generate_sets

    os.makedirs(args.work_dir, exist_ok=True)
    subset_gt = os.path.join(args.shared, "data", "coco-val2017-subset", "instances_val2017_subset.json")
    subset_dt = os.path.join(args.work_dir, "subset_results.json")
    subprocess.run([sys.executable, os.path.join(HERE, "fake_detections.py"), subset_gt, subset_dt], check=True)
    synthetic_dir = os.path.join(args.work_dir, "synthetic")
    generate_sets.write_benchmark(synthetic_dir, images=5000, detections=36000, seed=7)
    datasets = [
        ("val2017 subset (206 img)", subset_gt, subset_dt),
        ("generated (5000 img)", os.path.join(synthetic_dir, "instances.json"), os.path.join(synthetic_dir, "results.json")),
    ]

    rows = []
    for name, gt_path, dt_path in datasets:
        with open(gt_path) as f:
            gt = json.load(f)
        with open(dt_path) as f:
            detection_count = len(json.load(f))
        label = f"{name}: {len(gt['annotations'])} gt, {detection_count} dt"
        runs = {"ssd-energy cocoeval": [], "pycocotools 2.0.11": [], "faster-coco-eval 1.8.0": []}
        stats = {}
        walls = []
        for _ in range(args.repeats):
            load, evaluate, ours, wall = time_ours(args.binary, gt_path, dt_path)
            runs["ssd-energy cocoeval"].append((load, evaluate))
            stats["ssd-energy cocoeval"] = ours
            walls.append(wall)
            load, evaluate, reference = time_python(PyCOCO, PyCOCOeval, gt_path, dt_path)
            runs["pycocotools 2.0.11"].append((load, evaluate))
            stats["pycocotools 2.0.11"] = reference
            load, evaluate, fast = time_python(FastCOCO, COCOeval_faster, gt_path, dt_path)
            runs["faster-coco-eval 1.8.0"].append((load, evaluate))
            stats["faster-coco-eval 1.8.0"] = fast
        for tool, timings in runs.items():
            load = statistics.median(t[0] for t in timings)
            evaluate = statistics.median(t[1] for t in timings)
            diff = max(abs(a - b) for a, b in zip(stats[tool], stats["pycocotools 2.0.11"]))
            process = f"{statistics.median(walls):.3f}" if tool.startswith("ssd") else ""
            rows.append((label, tool, f"{load:.3f}", f"{evaluate:.3f}", f"{load + evaluate:.3f}", process, f"{diff:.1e}"))
        print(f"# {label}: AP {stats['pycocotools 2.0.11'][0]!r}", file=sys.stderr)

    print("| data | tool | load s | eval s | load+eval s | whole process s | max abs stat diff vs pycocotools |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
