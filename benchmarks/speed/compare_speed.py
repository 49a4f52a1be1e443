#!/usr/bin/env python3
"""Our engine (`ssd-energy bench`) against LiteRT (and ONNX Runtime for the ST model), side by side.

For each model and thread count, rounds alternate A/B/(C) runs (ours, LiteRT, ONNX Runtime), each
process timing many inferences of the graph alone on the same preprocessed image; a runtime's time is
the median of its per-round medians, and the ratio ours/LiteRT is only meaningful within this one run
(the machine is shared and noisy). "round ratios" is the range of ours/LiteRT over the rounds (each
round's medians, taken seconds apart): how far one configuration's ratio can be trusted. "ratio of
minima" divides the medians over rounds of each process's fastest inference: the machine's load comes in
spells of seconds that slow one process's whole run, so this shows what a quiet machine would give (the
targets are judged on the medians). Peak memory is each process's peak RSS.
"""
import argparse, glob, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = [
    ("person fp32", "ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite", None),
    ("person fp16", "ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite", None),
    ("person int8", "ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite", None),
    ("v1 uint8", "ssd_mobilenet_v1_coco_quant/detect.tflite", None),
    ("ST int8", "ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
     "ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.onnx"),
]


def run_json(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ssd_energy", help="path to the ssd-energy binary (release build)")
    parser.add_argument("--data", default=os.path.normpath(os.path.join(HERE, "../../../shared")))
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved A/B rounds per configuration")
    parser.add_argument("--iterations", type=int, default=30, help="timed inferences per process")
    parser.add_argument("--models", nargs="*", help="labels to run (default: all)")
    args = parser.parse_args()

    image = sorted(glob.glob(os.path.join(args.data, "data/coco-val2017-subset/images/*.jpg")))[0]
    rows = []
    for label, tflite, onnx in MODELS:
        if args.models and label not in args.models:
            continue
        model = os.path.join(args.data, "models", tflite)
        for threads in args.threads:
            common = ["--threads", str(threads), "--iterations", str(args.iterations)]
            ours, litert, ort = [], [], []
            for _ in range(args.rounds):
                ours.append(run_json([args.ssd_energy, "bench", "--model", model, "--image", image, "--json",
                                      "--warmup", "2"] + common))
                bench = [sys.executable, os.path.join(HERE, "litert_bench.py"), "--image", image, "--warmup", "5"] + common
                litert.append(run_json(bench + ["--model", model]))
                if onnx:
                    ort.append(run_json(bench + ["--model", os.path.join(args.data, "models", onnx),
                                                 "--runtime", "onnxruntime"]))
            ours_ms = statistics.median(r["median_ms"] for r in ours)
            litert_ms = statistics.median(r["median_ms"] for r in litert)
            round_ratios = [o["median_ms"] / l["median_ms"] for o, l in zip(ours, litert)]
            # Fastest inferences: what a quiet machine gives (see above); the targets stay on the medians.
            minima_ratio = (statistics.median(r["graph"]["min_ms"] for r in ours)
                            / statistics.median(r["min_ms"] for r in litert))
            row = {"model": label, "threads": threads, "ours_ms": ours_ms, "litert_ms": litert_ms,
                   "ratio": ours_ms / litert_ms, "round_ratio_min": min(round_ratios),
                   "round_ratio_max": max(round_ratios), "minima_ratio": minima_ratio,
                   "ours_detection_ms": statistics.median(r["detection"]["median_ms"] for r in ours),
                   "ours_peak_rss_mib": max(r["peak_rss_bytes"] for r in ours) / 2**20,
                   "litert_peak_rss_mib": max(r["peak_rss_bytes"] for r in litert) / 2**20,
                   "isa": ours[0]["instruction_set"]}
            if ort:
                row["onnxruntime_ms"] = statistics.median(r["median_ms"] for r in ort)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)

    print("| model | threads | ours ms | LiteRT ms | ours/LiteRT | round ratios | ratio of minima | ONNX Runtime ms "
          "| ours detection ms | ours peak RSS MiB | LiteRT peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        onnx = f"{r['onnxruntime_ms']:.1f}" if "onnxruntime_ms" in r else ""
        print(f"| {r['model']} | {r['threads']} | {r['ours_ms']:.1f} | {r['litert_ms']:.1f} | {r['ratio']:.2f} "
              f"| {r['round_ratio_min']:.2f}-{r['round_ratio_max']:.2f} | {r['minima_ratio']:.2f} | {onnx} "
              f"| {r['ours_detection_ms']:.1f} | {r['ours_peak_rss_mib']:.0f} | {r['litert_peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
