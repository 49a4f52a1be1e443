#!/usr/bin/env python3
"""Reference COCO box statistics from pycocotools for a ground-truth / detections pair.

    scripts/coco/pycocotools_reference.py GT.json DT.json [--json OUT.json]

Prints the 12 numbers of COCOeval(gt, dt, 'bbox').stats (AP, AP50, AP75, APs, APm, APl, AR1, AR10,
AR100, ARs, ARm, ARl) one per line with full float repr; --json also writes them to a file.
"""
import argparse
import contextlib
import copy
import io
import json

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

STAT_NAMES = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def coco_from_dict(dataset):
    """A pycocotools COCO object from an in-memory instances dict (COCO() only takes file names)."""
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def box_stats(ground_truth, detections):
    """The 12 stats as Python floats. ground_truth: dict or file name; detections: list or file name."""
    with contextlib.redirect_stdout(io.StringIO()):
        # COCOeval writes 'ignore' and '_ignore' into the gt dicts: give it a copy.
        gt = coco_from_dict(copy.deepcopy(ground_truth)) if isinstance(ground_truth, dict) else COCO(ground_truth)
        # loadRes mutates the detection dicts (adds id, area, iscrowd, segmentation): give it copies.
        if isinstance(detections, list):
            detections = [dict(d) for d in detections]
        dt = gt.loadRes(detections)
        evaluator = COCOeval(gt, dt, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return [float(x) for x in np.asarray(evaluator.stats)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ground_truth")
    parser.add_argument("detections")
    parser.add_argument("--json", help="also write {stats: [...], AP: ..., ...} to this file")
    args = parser.parse_args()
    stats = box_stats(args.ground_truth, args.detections)
    for name, value in zip(STAT_NAMES, stats):
        print(f"{name:6s} {value!r}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"stats": stats, **dict(zip(STAT_NAMES, stats))}, f, indent=1)


if __name__ == "__main__":
    main()
