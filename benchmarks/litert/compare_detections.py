#!/usr/bin/env python3
"""Compares `ssd-energy detect --json` with LiteRT + the reference post-processing of
/work/shared/reference-litert.md (numpy, float64) on the COCO subset, image by image, and the mAP
(pycocotools) both detection sets score.

Models: the three quantized ones (v1 uint8 with its own TFLite_Detection_PostProcess, ST FPNLite
int8, person int8) and the float person models (fp32, fp16). LiteRT gets the inputs of
reference-litert.md: PIL open -> RGB -> resize (BILINEAR) -> raw uint8 pixels for quantized inputs,
x/127.5-1 for float inputs; `detect` does its own decoding and resizing (libjpeg-turbo, Pillow-exact
bilinear), so this also checks the whole Swift pipeline from the JPEG file on.

Reference post-processing (reference-litert.md):
- v1: the graph's own post-process outputs; class index + 1 = COCO id ("???" ids dropped).
- ST: argmax over classes 1..80 per anchor, score > 0.05, corner-offset decoding, class-wise greedy
  NMS IoU 0.45, top 100; class i -> i-th COCO id.
- person: sigmoid of logit 1, score > 0.05, center-size decoding (10,10,5,5) on the shipped anchors,
  greedy NMS IoU 0.6, top 100; category 1.
Ties in score are broken by anchor index (as `detect` does). Boxes are not clipped (as both do).

Two detection lists are "the same" when they have the same length and, position by position, the
same category, the same float32 score and boxes within --box-tolerance pixels (the numpy reference
decodes in float64, `detect` in float32). Exit 1 on any difference vs BUILTIN_REF.

--check-inputs N: for the first N images of each model, `ssd-energy invoke --image --save-input` must
produce exactly the array PIL produces (the input LiteRT gets).

Usage:
  python3 benchmarks/litert/compare_detections.py .build/release/ssd-energy [--resolver both]
      [--limit N] [--every K] [--models v1 st person_int8 person_fp32 person_fp16] [--check-inputs 3]
"""
import argparse, contextlib, glob, io, json, os, subprocess, sys, tempfile
import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from compare_quantized import litert_model_bytes

PERSON = "ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_"
MODELS = {
    "v1": ("ssd_mobilenet_v1_coco_quant/detect.tflite", "post_processed"),
    "st": ("ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite", "st"),
    "person_int8": (PERSON + "int8.tflite", "person"),
    "person_fp32": (PERSON + "fp32.tflite", "person"),
    "person_fp16": (PERSON + "fp16.tflite", "person"),
}
RESOLVERS = {"builtin_ref": OpResolverType.BUILTIN_REF, "default": OpResolverType.AUTO}


def model_input(path, detail):
    _, height, width, _ = detail["shape"]
    image = Image.open(path).convert("RGB").resize((int(width), int(height)), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8)[None]
    if detail["dtype"] == np.float32:
        return (pixels.astype(np.float32) / 127.5 - 1.0).astype(np.float32)
    if detail["dtype"] == np.uint8:
        return pixels
    sys.exit(f"unexpected input type {detail['dtype']}")


def greedy_nms(boxes, order, iou_threshold):
    """Greedy NMS over `order` (sorted best first); boxes as ymin, xmin, ymax, xmax. Empty boxes
    have IoU 0 with everything (as TFLite's post-process kernel and `detect`)."""
    keep = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for i in order:
        ok = True
        for j in keep:
            if area[i] <= 0 or area[j] <= 0:
                continue
            inter = (max(min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0]), 0)
                     * max(min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1]), 0))
            if inter / (area[i] + area[j] - inter) > iou_threshold:
                ok = False
                break
        if ok:
            keep.append(int(i))
    return keep


def best_first(scores, candidates):
    return candidates[np.lexsort((candidates, -scores[candidates]))]  # score desc, then anchor


def reference_detections(kind, outputs, ctx, width, height):
    """[(category id, float32 score, [xmin, ymin, xmax, ymax] pixels)] best first."""
    if kind == "post_processed":
        boxes, classes, scores, count = (o.reshape(-1) for o in outputs)
        boxes = boxes.reshape(-1, 4)
        result = []
        for i in range(int(count[0])):
            cid = int(classes[i]) + 1
            if scores[i] <= 0 or cid >= len(ctx["labelmap"]) or ctx["labelmap"][cid] == "???":
                continue
            y0, x0, y1, x1 = (float(v) for v in boxes[i])
            result.append((cid, np.float32(scores[i]), [x0 * width, y0 * height, x1 * width, y1 * height]))
        return result
    if kind == "st":
        by_shape = {o.shape[-1]: o for o in outputs if o.shape[-1] != 4}
        scores = next(iter(by_shape.values())).reshape(-1, 81).astype(np.float64)
        four = [o.reshape(-1, 4).astype(np.float64) for o in outputs if o.shape[-1] == 4]
        # Anchors are proper boxes (min < max) in every row; the deltas are not.
        anchors = next(a for a in four if np.all(a[:, 2] > a[:, 0]) and np.all(a[:, 3] > a[:, 1]))
        deltas = next(a for a in four if a is not anchors)
        cls = np.argmax(scores[:, 1:], axis=1) + 1
        best = scores[np.arange(len(scores)), cls]
        wa, ha = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
        x1, y1 = deltas[:, 0] * wa + anchors[:, 0], deltas[:, 1] * ha + anchors[:, 1]
        x2, y2 = deltas[:, 2] * wa + anchors[:, 2], deltas[:, 3] * ha + anchors[:, 3]
        boxes = np.stack([y1, x1, y2, x2], axis=1)
        kept = []
        for c in np.unique(cls[best > 0.05]):
            members = np.nonzero((cls == c) & (best > 0.05))[0]
            kept += [(i, int(c)) for i in greedy_nms(boxes, best_first(best, members), 0.45)]
        kept.sort(key=lambda ic: (-best[ic[0]], ic[0]))
        return [(ctx["coco_ids"][c - 1], np.float32(best[i]),
                 [boxes[i, 1] * width, boxes[i, 0] * height, boxes[i, 3] * width, boxes[i, 2] * height])
                for i, c in kept[:100]]
    # person
    enc = next(o for o in outputs if o.shape[-1] == 4).reshape(-1, 4).astype(np.float64)
    logits = next(o for o in outputs if o.shape[-1] == 2).reshape(-1, 2).astype(np.float64)
    scores = 1.0 / (1.0 + np.exp(-logits[:, 1]))
    a = ctx["person_anchors"]
    ha, wa = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    cy, cx = enc[:, 0] / 10 * ha + (a[:, 0] + a[:, 2]) / 2, enc[:, 1] / 10 * wa + (a[:, 1] + a[:, 3]) / 2
    h, w = np.exp(enc[:, 2] / 5) * ha, np.exp(enc[:, 3] / 5) * wa
    boxes = np.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], axis=1)
    order = best_first(scores, np.nonzero(scores > 0.05)[0])
    keep = []
    for i in greedy_nms(boxes, order, 0.6)[:100]:
        keep.append((1, np.float32(scores[i]),
                     [boxes[i, 1] * width, boxes[i, 0] * height, boxes[i, 3] * width, boxes[i, 2] * height]))
    return keep


def compare_lists(ours, theirs, tolerance):
    """(same?, largest box difference in pixels, largest score difference); the differences are only
    measured when both lists have the same categories in the same order (else they are 0)."""
    if len(ours) != len(theirs) or any(a[0] != b[0] for a, b in zip(ours, theirs)):
        return False, 0.0, 0.0
    box_diff = max((abs(u - v) for a, b in zip(ours, theirs) for u, v in zip(a[2], b[2])), default=0.0)
    score_diff = max((abs(float(a[1]) - float(b[1])) for a, b in zip(ours, theirs)), default=0.0)
    same = box_diff <= tolerance and all(np.float32(a[1]) == np.float32(b[1]) for a, b in zip(ours, theirs))
    return same, box_diff, score_diff


def coco_map(gt, image_ids, detections, person_only):
    results = [{"image_id": image_ids[stem], "category_id": c, "score": float(s),
                "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]}
               for stem, dets in detections.items() for c, s, b in dets]
    if not results:
        return 0.0, 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluation.params.imgIds = sorted(image_ids[s] for s in detections)
        if person_only:
            evaluation.params.catIds = [1]
        evaluation.evaluate(); evaluation.accumulate(); evaluation.summarize()
    return evaluation.stats[0], evaluation.stats[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ssd_energy", help="path to the ssd-energy binary (release build)")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--data", default=os.path.normpath(os.path.join(here, "../../../shared")))
    parser.add_argument("--resolver", choices=["builtin_ref", "default", "both"], default="both")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--models", nargs="*", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--box-tolerance", type=float, default=0.01, help="pixels")
    parser.add_argument("--check-inputs", type=int, default=3)
    args = parser.parse_args()

    subset = os.path.join(args.data, "data/coco-val2017-subset")
    images = sorted(glob.glob(os.path.join(subset, "images/*.jpg")))[:: args.every]
    if args.limit:
        images = images[: args.limit]
    if not images:
        sys.exit(f"no images under {subset}/images")
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(os.path.join(subset, "instances_val2017_subset.json"))
    image_ids = {os.path.splitext(i["file_name"])[0]: i["id"] for i in gt.dataset["images"]}
    ctx = {
        "labelmap": open(os.path.join(args.data, "models/ssd_mobilenet_v1_coco_quant/labelmap.txt")).read().splitlines(),
        "coco_ids": sorted(c["id"] for c in gt.dataset["categories"]),
        "person_anchors": np.fromfile(os.path.join(args.data, "models/ssdlite_mobilenet_v2_person/anchors_1917x4_yxyx_f32.bin"),
                                      dtype="<f4").reshape(-1, 4).astype(np.float64),
    }
    resolvers = ["builtin_ref", "default"] if args.resolver == "both" else [args.resolver]

    failed = False
    for key in args.models:
        relative, kind = MODELS[key]
        model_path = os.path.join(args.data, "models", relative)
        name = os.path.basename(model_path)
        run = subprocess.run([args.ssd_energy, "detect", "--json", "--model", model_path, *images],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{name}: ssd-energy detect failed: {run.stderr.strip()}")
            failed = True
            continue
        ours = {}
        for line in run.stdout.splitlines():
            record = json.loads(line)
            ours[os.path.splitext(os.path.basename(record["image"]))[0]] = [
                (d["category_id"], np.float32(d["score"]), [d["xmin"], d["ymin"], d["xmax"], d["ymax"]])
                for d in record["detections"]]

        if args.check_inputs:
            with tempfile.TemporaryDirectory(prefix="compare_detections_") as work:
                probe = Interpreter(model_content=litert_model_bytes(model_path))
                detail = probe.get_input_details()[0]
                for path in images[: args.check_inputs]:
                    saved = os.path.join(work, "input.npy")
                    subprocess.run([args.ssd_energy, "invoke", "--model", model_path, "--image", path,
                                    "--save-input", saved, "--outputs", os.path.join(work, "out")], check=True)
                    expected = model_input(path, detail)
                    actual = np.load(saved)
                    if actual.dtype != expected.dtype or not np.array_equal(actual, expected):
                        print(f"{name} {os.path.basename(path)}: invoke --image input differs from PIL's "
                              f"({int(np.count_nonzero(actual != expected))} elements)")
                        failed = True
                print(f"{name}: invoke --image input == PIL preprocessing on {min(args.check_inputs, len(images))} images "
                      f"({detail['dtype'].__name__} {list(map(int, detail['shape']))})")

        ours_map = coco_map(gt, image_ids, ours, kind == "person")
        for resolver in resolvers:
            litert = Interpreter(model_content=litert_model_bytes(model_path), experimental_op_resolver_type=RESOLVERS[resolver])
            litert.allocate_tensors()
            detail = litert.get_input_details()[0]
            outs = litert.get_output_details()
            theirs, differing, box_diff, score_diff, count = {}, [], 0.0, 0.0, 0
            for path in images:
                stem = os.path.splitext(os.path.basename(path))[0]
                litert.set_tensor(detail["index"], model_input(path, detail))
                litert.invoke()
                width, height = Image.open(path).size
                theirs[stem] = reference_detections(kind, [litert.get_tensor(o["index"]) for o in outs],
                                                    ctx, width, height)
                same, b, s = compare_lists(ours.get(stem, []), theirs[stem], args.box_tolerance)
                box_diff, score_diff = max(box_diff, b), max(score_diff, s)
                count += len(theirs[stem])
                if not same:
                    differing.append(stem)
            their_map = coco_map(gt, image_ids, theirs, kind == "person")
            if resolver == "builtin_ref" and differing:
                failed = True
                for stem in differing[:5]:
                    print(f"  {stem}: ours {len(ours.get(stem, []))} detections, LiteRT {len(theirs[stem])}")
            print(f"{name} detect vs LiteRT {resolver} + reference post-processing: {len(images)} images, "
                  f"{count} reference detections, {len(images) - len(differing)} images identical, "
                  f"{len(differing)} differ; where categories match in order, largest box difference {box_diff:.2g} px, "
                  f"score {score_diff:.2g}; mAP ours {ours_map[0]:.4f} (AP50 {ours_map[1]:.4f}), "
                  f"LiteRT {their_map[0]:.4f} (AP50 {their_map[1]:.4f}), difference {ours_map[0] - their_map[0]:+.4f}",
                  flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
