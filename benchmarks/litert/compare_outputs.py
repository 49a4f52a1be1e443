#!/usr/bin/env python3
"""Compares ssd-energy's Swift engine with LiteRT on the COCO subset, output tensor by output tensor,
and the detections both give after the same numpy decoding + NMS.

For each image: PIL open -> RGB -> resize to the model input (BILINEAR) -> x/127.5-1 float32 (as
/work/shared/reference-litert.md), saved as input.npy; LiteRT runs it, and `ssd-energy invoke
--input-npy` runs the same array. Every output element must satisfy

    |ours - litert| <= TOL * max(1, |litert|)        (TOL = 1e-4 unless --tolerance)

i.e. an absolute bound for values up to 1 in magnitude and a relative bound above. Prints one summary
line per model and exits non-zero on any mismatch.

Usage:
  python3 benchmarks/litert/compare_outputs.py .build/release/ssd-energy [--limit N] [--every K]
      [--data ../shared] [--resolver builtin_ref|default] [--weights float32|float16-on-the-fly]
"""
import argparse, glob, os, subprocess, sys, tempfile
import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter, OpResolverType

MODELS = ["ssdlite_mobilenet_v2_person_fp32", "ssdlite_mobilenet_v2_person_fp16"]


def preprocess(path, height, width):
    image = Image.open(path).convert("RGB").resize((width, height), Image.BILINEAR)
    return (np.asarray(image, dtype=np.float32) / 127.5 - 1.0)[None].astype(np.float32)


def decode_detections(box_encodings, logits, anchors, score_threshold=0.05, iou=0.6, top_k=100):
    """reference-litert.md's person-model post-processing: sigmoid of logit 1, score > 0.05,
    center-size decoding with scales 10,10,5,5 on the shipped anchors, greedy NMS IoU 0.6, top 100.
    Returns (boxes [n,4] ymin,xmin,ymax,xmax normalised, scores [n]) in NMS order."""
    enc = box_encodings.reshape(-1, 4).astype(np.float64)
    scores = 1.0 / (1.0 + np.exp(-logits.reshape(-1, logits.shape[-1])[:, 1].astype(np.float64)))
    ay, ax = (anchors[:, 0] + anchors[:, 2]) / 2, (anchors[:, 1] + anchors[:, 3]) / 2
    ah, aw = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    cy, cx = enc[:, 0] / 10 * ah + ay, enc[:, 1] / 10 * aw + ax
    h, w = np.exp(enc[:, 2] / 5) * ah, np.exp(enc[:, 3] / 5) * aw
    boxes = np.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], axis=1)
    keep = np.nonzero(scores > score_threshold)[0]
    order = keep[np.argsort(-scores[keep], kind="stable")]
    chosen = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for i in order:
        if len(chosen) == top_k:
            break
        ok = True
        for j in chosen:
            yy1, xx1 = max(boxes[i, 0], boxes[j, 0]), max(boxes[i, 1], boxes[j, 1])
            yy2, xx2 = min(boxes[i, 2], boxes[j, 2]), min(boxes[i, 3], boxes[j, 3])
            inter = max(0.0, yy2 - yy1) * max(0.0, xx2 - xx1)
            union = areas[i] + areas[j] - inter
            if union > 0 and inter / union > iou:
                ok = False
                break
        if ok:
            chosen.append(i)
    return boxes[chosen], scores[chosen]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ssd_energy", help="path to the ssd-energy binary (release build)")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--data", default=os.path.normpath(os.path.join(here, "../../../shared")))
    parser.add_argument("--limit", type=int, default=0, help="compare at most N images")
    parser.add_argument("--every", type=int, default=1, help="take every K-th image")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--resolver", choices=["builtin_ref", "default"], default="builtin_ref",
                        help="LiteRT kernels: reference kernels (default) or the default XNNPACK path")
    parser.add_argument("--weights", default="float32", help="ssd-energy invoke --weights value")
    parser.add_argument("--kernels", choices=["optimized", "reference"], default="optimized",
                        help="ssd-energy invoke --kernels value: our optimized kernels (default) or our reference kernels")
    parser.add_argument("--models", nargs="*", default=MODELS)
    args = parser.parse_args()

    model_dir = os.path.join(args.data, "models/ssdlite_mobilenet_v2_person")
    anchors = np.fromfile(os.path.join(model_dir, "anchors_1917x4_yxyx_f32.bin"), dtype="<f4").reshape(-1, 4)
    images = sorted(glob.glob(os.path.join(args.data, "data/coco-val2017-subset/images/*.jpg")))[:: args.every]
    if args.limit:
        images = images[: args.limit]
    if not images:
        sys.exit(f"no images under {args.data}/data/coco-val2017-subset/images")
    resolver = OpResolverType.BUILTIN_REF if args.resolver == "builtin_ref" else OpResolverType.AUTO

    failed = False
    with tempfile.TemporaryDirectory(prefix="compare_outputs_") as work:
        for name in args.models:
            model_path = os.path.join(model_dir, name + ".tflite")
            litert = Interpreter(model_path=model_path, experimental_op_resolver_type=resolver)
            litert.allocate_tensors()
            (inp,) = litert.get_input_details()
            outs = litert.get_output_details()
            _, height, width, _ = inp["shape"]
            max_abs, max_rel, worst, bad_elements, detection_mismatches = 0.0, 0.0, None, 0, 0
            for path in images:
                x = preprocess(path, height, width)
                input_npy = os.path.join(work, "input.npy")
                np.save(input_npy, x)
                litert.set_tensor(inp["index"], x)
                litert.invoke()
                expected = [litert.get_tensor(o["index"]) for o in outs]
                out_dir = os.path.join(work, "out")
                subprocess.run([args.ssd_energy, "invoke", "--model", model_path, "--input-npy", input_npy,
                                "--outputs", out_dir, "--weights", args.weights, "--kernels", args.kernels],
                               check=True)
                ours = [np.load(os.path.join(out_dir, f"output_{i}.npy")) for i in range(len(outs))]
                image_rel = 0.0
                for i, (a, b) in enumerate(zip(ours, expected)):
                    if a.dtype != b.dtype or a.shape != b.shape:
                        print(f"{name} {os.path.basename(path)} output {i}: ours {a.dtype}{a.shape}, "
                              f"LiteRT {b.dtype}{b.shape}")
                        failed = True
                        continue
                    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
                    rel = diff / np.maximum(1.0, np.abs(b.astype(np.float64)))
                    bad_elements += int(np.count_nonzero(rel > args.tolerance))
                    max_abs = max(max_abs, float(diff.max()))
                    image_rel = max(image_rel, float(rel.max()))
                if worst is None or image_rel > max_rel:
                    worst, max_rel = os.path.basename(path), max(max_rel, image_rel)
                # Same detections after the same decoding + NMS (box encodings = output 0, logits = 1).
                ob, os_ = decode_detections(ours[0], ours[1], anchors)
                eb, es = decode_detections(expected[0], expected[1], anchors)
                if ob.shape != eb.shape or not np.allclose(ob, eb, atol=1e-4) or not np.allclose(os_, es, atol=1e-4):
                    detection_mismatches += 1
                    print(f"{name} {os.path.basename(path)}: detections differ ({len(ob)} vs {len(eb)})")
            ok = bad_elements == 0 and detection_mismatches == 0
            failed |= not ok
            print(f"{name} [{args.weights}, {args.kernels} kernels] vs LiteRT {args.resolver}: {len(images)} images, "
                  f"max abs err {max_abs:.3g}, max rel err {max_rel:.3g} (worst {worst}), "
                  f"{bad_elements} elements over tolerance {args.tolerance:g}, "
                  f"{detection_mismatches} images with different detections -> {'OK' if ok else 'MISMATCH'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
