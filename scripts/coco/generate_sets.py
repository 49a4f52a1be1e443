#!/usr/bin/env python3
"""Seeded random COCO ground-truth / detection sets, with pycocotools' stats as the reference.

    scripts/coco/generate_sets.py fixtures OUT.jsonl [--count 300] [--big 6] [--seed 2026]
        Writes 3 lines per set: {"name", "stats"} (pycocotools' 12 stats), the instances JSON,
        the results JSON. Tests/COCOTests/Fixtures/generated_sets.jsonl is made this way.
    scripts/coco/generate_sets.py benchmark OUT_DIR [--images 5000] [--detections 36000] [--seed 7]
        Writes OUT_DIR/instances.json and OUT_DIR/results.json (no reference stats).

Sets are built to reach pycocotools' corner cases: crowd regions, tiny and huge boxes, areas exactly on
the small/medium/large bounds, gt area different from w*h, score ties and duplicate detections, images
without ground truth or without detections, categories without ground truth, detections of categories
absent from their image, images with more than 100 detections, a gt with id 0 now and then.
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycocotools_reference import box_stats  # noqa: E402

SIZE_CLASSES = [(0.5, 12), (12, 32), (32, 96), (96, 400), (400, 1000)]


def rounded(rng, value):
    """Short decimals keep the fixture small; some values stay integers, some get 2 decimals."""
    digits = rng.choice([0, 1, 1, 2])
    return int(round(value)) if digits == 0 else round(value, digits)


def random_box(rng, width, height):
    low, high = rng.choice(SIZE_CLASSES)
    w = rng.uniform(low, high)
    h = w * rng.uniform(0.5, 2.0)
    x = rng.uniform(-0.05 * width, width)
    y = rng.uniform(-0.05 * height, height)
    return [rounded(rng, x), rounded(rng, y), max(0, rounded(rng, w)), max(0, rounded(rng, h))]


def gt_area(rng, box):
    """Real COCO areas are segmentation areas (smaller than w*h); some sit exactly on a bound."""
    choice = rng.random()
    if choice < 0.4:
        return box[2] * box[3]
    if choice < 0.9:
        return round(box[2] * box[3] * rng.uniform(0.4, 1.0), 2)
    return rng.choice([32 ** 2, 96 ** 2, 0, 1e10])


def jittered(rng, box):
    x, y, w, h = box
    return [
        rounded(rng, x + rng.gauss(0, 0.1 * w + 0.5)),
        rounded(rng, y + rng.gauss(0, 0.1 * h + 0.5)),
        max(0, rounded(rng, w * rng.uniform(0.8, 1.25))),
        max(0, rounded(rng, h * rng.uniform(0.8, 1.25))),
    ]


def random_score(rng):
    choice = rng.random()
    if choice < 0.5:
        return round(rng.random(), 2)
    if choice < 0.9:
        return rng.choice([0.3, 0.5, 0.9])  # ties
    return rng.choice([0.0, 1.0, 0.123456789012345])


def random_set(rng, images, max_gt, max_dt, crowd_rate=0.08, crowded_image_rate=0.0):
    category_ids = sorted(rng.sample(range(1, 91), rng.randint(1, 6)))
    image_ids = rng.sample(range(1, 1_000_000), images)
    gt_ids = rng.sample(range(1, 10_000_000), images * max_gt + 1)
    image_entries, annotations, detections = [], [], []
    for image_id in image_ids:
        width, height = rng.choice([(640, 480), (480, 640), (500, 375), (1000, 1000)])
        image_entries.append({"id": image_id})  # width, height, file_name: optional, not used
        image_gts = []
        for _ in range(rng.randint(0, max_gt) if rng.random() > 0.15 else 0):
            box = random_box(rng, width, height)
            crowd = 1 if rng.random() < crowd_rate else 0
            if crowd:
                box = [box[0], box[1], box[2] * 3 + 50, box[3] * 3 + 50]
            gt = {"id": gt_ids.pop(), "image_id": image_id, "category_id": rng.choice(category_ids),
                  "bbox": box, "area": gt_area(rng, box), "iscrowd": crowd}
            annotations.append(gt)
            image_gts.append(gt)
        count = rng.randint(0, max_dt) if rng.random() > 0.15 else 0
        if rng.random() < crowded_image_rate:
            count = rng.randint(101, 130)
        for _ in range(count):
            if image_gts and rng.random() < 0.75:
                source = rng.choice(image_gts)
                box = jittered(rng, source["bbox"])
                category = source["category_id"] if rng.random() < 0.8 else rng.choice(category_ids)
            else:
                box = random_box(rng, width, height)
                category = rng.choice(category_ids)  # often absent from this image
            detection = {"image_id": image_id, "category_id": category, "bbox": box, "score": random_score(rng)}
            detections.append(detection)
            if rng.random() < 0.05:
                detections.append(dict(detection))  # an exact duplicate
    if annotations and rng.random() < 0.03:
        annotations[rng.randrange(len(annotations))]["id"] = 0  # pycocotools treats a match with id 0 as none
    if not detections:  # pycocotools' loadRes cannot take an empty list
        detections.append({"image_id": image_ids[0], "category_id": category_ids[0],
                           "bbox": [1, 2, 30, 40], "score": 0.5})
    rng.shuffle(detections)
    categories = [{"id": c, "name": f"c{c}"} for c in category_ids]
    return {"images": image_entries, "annotations": annotations, "categories": categories}, detections


def write_fixtures(path, count, big, seed):
    rng = random.Random(seed)
    with open(path, "w") as out:
        for index in range(count + big):
            if index < count:
                gt, dt = random_set(rng, images=rng.randint(1, 4), max_gt=5, max_dt=6)
            else:
                gt, dt = random_set(rng, images=rng.randint(8, 14), max_gt=10, max_dt=12, crowded_image_rate=0.12)
            stats = box_stats(gt, dt)
            compact = {"separators": (",", ":")}
            out.write(json.dumps({"name": f"set-{index:03d}", "stats": stats}, **compact) + "\n")
            out.write(json.dumps(gt, **compact) + "\n")
            out.write(json.dumps(dt, **compact) + "\n")


def random_segmentation(rng, box, crowd, width, height):
    """Something shaped like COCO's: a polygon of 8-80 vertices (2 decimals), or RLE counts for a crowd,
    so the benchmark file has val2017's bulk (~650 bytes per annotation) for the loader to skip."""
    x, y, w, h = box
    if crowd:
        return {"counts": [rng.randint(0, 400) for _ in range(rng.randint(20, 200))], "size": [height, width]}
    return [[round(v, 2) for _ in range(rng.randint(8, 80)) for v in (x + rng.random() * w, y + rng.random() * h)]]


def write_benchmark(out_dir, images, detections, seed):
    """A val2017-sized set: 80 categories, ~7 gts and `detections / images` detections per image."""
    rng = random.Random(seed)
    category_ids = list(range(1, 91))[:80]
    gt = {"images": [], "annotations": [], "categories": [{"id": c, "name": f"class{c}"} for c in category_ids]}
    results = []
    per_image = detections / images
    next_id = 1
    for image_id in range(1, images + 1):
        width, height = 640, 480
        gt["images"].append({"id": image_id, "width": width, "height": height, "file_name": f"{image_id:012d}.jpg"})
        boxes = []
        for _ in range(rng.randint(0, 14)):
            box = random_box(rng, width, height)
            crowd = 1 if rng.random() < 0.01 else 0
            category = rng.choice(category_ids)
            gt["annotations"].append({"id": next_id, "image_id": image_id, "category_id": category, "bbox": box,
                                      "area": gt_area(rng, box), "iscrowd": crowd,
                                      "segmentation": random_segmentation(rng, box, crowd, width, height)})
            next_id += 1
            boxes.append((box, category))
        for _ in range(int(per_image) + (1 if rng.random() < per_image - int(per_image) else 0)):
            if boxes and rng.random() < 0.6:
                box, category = rng.choice(boxes)
                box = jittered(rng, box)
            else:
                box, category = random_box(rng, width, height), rng.choice(category_ids)
            results.append({"image_id": image_id, "category_id": category, "bbox": box, "score": round(rng.random(), 4)})
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "instances.json"), "w") as f:
        json.dump(gt, f)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    fixtures = sub.add_parser("fixtures")
    fixtures.add_argument("out")
    fixtures.add_argument("--count", type=int, default=300)
    fixtures.add_argument("--big", type=int, default=6)
    fixtures.add_argument("--seed", type=int, default=2026)
    bench = sub.add_parser("benchmark")
    bench.add_argument("out_dir")
    bench.add_argument("--images", type=int, default=5000)
    bench.add_argument("--detections", type=int, default=36000)
    bench.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.mode == "fixtures":
        write_fixtures(args.out, args.count, args.big, args.seed)
    else:
        write_benchmark(args.out_dir, args.images, args.detections, args.seed)


if __name__ == "__main__":
    main()
