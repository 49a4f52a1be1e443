#!/usr/bin/env python3
"""Plausible detections around a ground-truth file (the detector is not the point of this benchmark).

    benchmarks/cocoeval/fake_detections.py GT.json OUT.json [--seed 1]

Most objects get a jittered box of their category (some the wrong category), every image gets a few
low-scored false positives, scores are random with 4 decimals. Seeded, so reruns give the same file.
"""
import argparse
import json
import random


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ground_truth")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with open(args.ground_truth) as f:
        gt = json.load(f)
    category_ids = [c["id"] for c in gt["categories"]]
    by_image = {}
    for annotation in gt["annotations"]:
        by_image.setdefault(annotation["image_id"], []).append(annotation)
    detections = []
    for image in gt["images"]:
        width, height = image.get("width", 640), image.get("height", 480)
        for annotation in by_image.get(image["id"], []):
            if rng.random() > 0.85:
                continue
            x, y, w, h = annotation["bbox"]
            box = [round(x + rng.gauss(0, 0.08 * w), 2), round(y + rng.gauss(0, 0.08 * h), 2),
                   round(w * rng.uniform(0.85, 1.15), 2), round(h * rng.uniform(0.85, 1.15), 2)]
            category = annotation["category_id"] if rng.random() < 0.9 else rng.choice(category_ids)
            detections.append({"image_id": image["id"], "category_id": category, "bbox": box,
                               "score": round(rng.uniform(0.3, 1.0), 4)})
        for _ in range(rng.randint(0, 15)):
            w, h = rng.uniform(5, width / 2), rng.uniform(5, height / 2)
            detections.append({"image_id": image["id"], "category_id": rng.choice(category_ids),
                               "bbox": [round(rng.uniform(0, width - w), 2), round(rng.uniform(0, height - h), 2),
                                        round(w, 2), round(h, 2)],
                               "score": round(rng.uniform(0.0, 0.6), 4)})
    with open(args.out, "w") as f:
        json.dump(detections, f)


if __name__ == "__main__":
    main()
