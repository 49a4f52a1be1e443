#!/usr/bin/env python3
"""Person AP of `ssd-energy detect` on the shared COCO subset, to compare with reference-litert.md.

Usage: python3 benchmarks/detector/person_map.py MODEL.tflite [SHARED_DIR]
Runs .build/release/ssd-energy detect --json over all images, converts to COCO results (bbox in
pixels, x,y,w,h) and evaluates with pycocotools over category 1 only, as the reference did.
"""
import json
import os
import subprocess
import sys

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
model = sys.argv[1]
shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared")
subset = os.path.join(shared, "data", "coco-val2017-subset")
gt = COCO(os.path.join(subset, "instances_val2017_subset.json"))
by_file = {img["file_name"]: img["id"] for img in gt.dataset["images"]}
paths = [os.path.join(subset, "images", name) for name in sorted(by_file)]
out = subprocess.run([os.path.join(ROOT, ".build", "release", "ssd-energy"), "detect", "--json", "--model", model, *paths],
                     check=True, capture_output=True, text=True).stdout
results = []
for line in out.splitlines():
    record = json.loads(line)
    image_id = by_file[os.path.basename(record["image"])]
    for d in record["detections"]:
        results.append({"image_id": image_id, "category_id": d["category_id"], "score": d["score"],
                        "bbox": [d["xmin"], d["ymin"], d["xmax"] - d["xmin"], d["ymax"] - d["ymin"]]})
evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
evaluation.params.catIds = [1]
evaluation.evaluate(); evaluation.accumulate(); evaluation.summarize()
print(f"person AP {evaluation.stats[0]:.4f} AP50 {evaluation.stats[1]:.4f} ({len(results)} detections)")
