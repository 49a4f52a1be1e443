#!/usr/bin/env python3
"""Makes every shared model in all three precisions with `ssd-energy quantize`, checks each file in LiteRT
and in our engine (same input, outputs compared), and scores the person model's fp16/int8 files (ours and
the TensorFlow converter's) with LiteRT + pycocotools, same preprocessing and post-processing as
../shared/reference-litert.md.

Usage: python3 benchmarks/precision/run.py [--shared DIR] [--out DIR] [--samples N] [--method minmax]
Needs .build/release/ssd-energy (swift build -c release). Writes only into --out (never into shared).
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np
from PIL import Image
from ai_edge_litert import interpreter as litert
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, ".build", "release", "ssd-energy")
ap = argparse.ArgumentParser()
ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "ssd-energy-precision"))
ap.add_argument("--samples", type=int, default=100)
ap.add_argument("--method", default="minmax")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
M = os.path.join(args.shared, "models")
person = os.path.join(M, "ssdlite_mobilenet_v2_person")
v1 = os.path.join(M, "ssd_mobilenet_v1_coco_quant", "detect.tflite")
st = os.path.join(M, "ssd_mobilenet_v2_fpnlite_256_coco", "ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")
out = lambda name: os.path.join(args.out, name)

def quantize(src, to, dst, *extra):
    subprocess.run([TOOL, "quantize", "--model", src, "--to", to, "--output", dst, "--data", args.shared, *extra],
                   check=True, stdout=subprocess.DEVNULL)
    return dst

print("## conversions")
made = {
    "person fp16 (ours)": quantize(os.path.join(person, "ssdlite_mobilenet_v2_person_fp32.tflite"), "fp16", out("person_fp16.tflite")),
    "person int8 (ours)": quantize(os.path.join(person, "ssdlite_mobilenet_v2_person_fp32.tflite"), "int8", out("person_int8.tflite"),
                                   "--samples", str(args.samples), "--method", args.method),
    "v1 fp32 (ours, from uint8)": quantize(v1, "fp32", out("v1_fp32.tflite")),
    "st fp32 (ours, from int8)": quantize(st, "fp32", out("st_fp32.tflite")),
}
made["v1 fp16 (ours, from our fp32)"] = quantize(made["v1 fp32 (ours, from uint8)"], "fp16", out("v1_fp16.tflite"))
made["st fp16 (ours, from our fp32)"] = quantize(made["st fp32 (ours, from int8)"], "fp16", out("st_fp16.tflite"))
for k, v in made.items(): print(f"{k}: {v} ({os.path.getsize(v)} bytes)")

subset = os.path.join(args.shared, "data", "coco-val2017-subset")
gt = COCO(os.path.join(subset, "instances_val2017_subset.json"))
images = sorted(gt.dataset["images"], key=lambda i: i["file_name"])

def input_for(interp, image, normalisation):
    d = interp.get_input_details()[0]
    h, w = d["shape"][1], d["shape"][2]
    px = np.asarray(image.convert("RGB").resize((w, h), Image.BILINEAR), dtype=np.float32)[None]
    if d["dtype"] == np.float32:
        mean, std = normalisation
        return ((px - mean) / std).astype(np.float32)
    return px.astype(d["dtype"])

# Float models derived from quantized ones take the normalisation equal to the source's input quantization,
# as `quantize` records in their provenance: v1 (p - 128) / 128, ST (p - 127) * 0.0078431377 (its scale).
NORMALISATION = {"v1": (128.0, 128.0), "st": (127.0, 1 / 0.007843137718737125), "person": (127.5, 127.5)}

print("\n## same input, LiteRT (reference kernels, BUILTIN_REF) vs our engine (first subset image)")
print("Float outputs: max |difference|. Outputs dequantized from int8: also in steps of that tensor's scale.")
first = Image.open(os.path.join(subset, "images", images[0]["file_name"]))
checks = dict(made)
checks["v1 uint8 (shared)"] = v1
checks["st int8 (shared)"] = st
worst = {}
for name, path in checks.items():
    family = name.split()[0]
    try:
        interp = litert.Interpreter(model_path=path, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
        kernels = ""
    except ValueError:  # the reference resolver lacks some op versions (the shared ST file's TILE v3)
        interp = litert.Interpreter(model_path=path)
        kernels = " [LiteRT default kernels: the reference resolver refuses this file]"
    interp.allocate_tensors()
    x = input_for(interp, first, NORMALISATION[family])
    interp.set_tensor(interp.get_input_details()[0]["index"], x); interp.invoke()
    details = {t["index"]: t for t in interp.get_tensor_details()}
    feeding = {op["outputs"][0]: op["inputs"][0] for op in interp._get_ops_details() if op["op_name"] == "DEQUANTIZE"}
    theirs, steps = [], []
    for o in interp.get_output_details():
        theirs.append(interp.get_tensor(o["index"]))
        source = details.get(feeding.get(o["index"], -1))
        steps.append(source["quantization"][0] if source is not None and source["dtype"] in (np.int8, np.uint8) else None)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "in.npy"), x)
        subprocess.run([TOOL, "invoke", "--model", path, "--input-npy", os.path.join(tmp, "in.npy"), "--outputs", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        ours = [np.load(os.path.join(tmp, f"output_{i}.npy")) for i in range(len(theirs))]
    parts = []
    for a, b, step in zip(ours, theirs, steps):
        a = a.astype(np.float64); b = b.astype(np.float64)
        finite = np.isfinite(a) & np.isfinite(b)
        same_inf = bool(np.all((np.isfinite(a) == np.isfinite(b))))
        d = float(np.max(np.abs(a[finite] - b[finite]))) if finite.any() else 0.0
        parts.append(f"{d:.3g}" + (f" ({d / step:.2f} steps)" if step else "") + ("" if same_inf else " (non-finite mismatch)"))
    print(f"{name}: {', '.join(parts)}{kernels}")

print("\n## person AP, LiteRT + pycocotools (reference-litert.md post-processing)")
anchors = np.fromfile(os.path.join(person, "anchors_1917x4_yxyx_f32.bin"), dtype="<f4").reshape(-1, 4)

def nms(boxes, scores, iou, top):
    order = np.argsort(-scores, kind="stable"); keep = []
    while order.size and len(keep) < top:
        i = order[0]; keep.append(i)
        yy1 = np.maximum(boxes[i, 0], boxes[order[1:], 0]); xx1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        yy2 = np.minimum(boxes[i, 2], boxes[order[1:], 2]); xx2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.clip(yy2 - yy1, 0, None) * np.clip(xx2 - xx1, 0, None)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
        overlap = inter / (area(boxes[i]) + area(boxes[order[1:]]) - inter + 1e-12)
        order = order[1:][overlap <= iou]
    return keep

def person_ap(path):
    interp = litert.Interpreter(model_path=path); interp.allocate_tensors()
    outs = interp.get_output_details()
    results = []
    for info in images:
        image = Image.open(os.path.join(subset, "images", info["file_name"]))
        interp.set_tensor(interp.get_input_details()[0]["index"], input_for(interp, image, NORMALISATION["person"]))
        interp.invoke()
        tensors = {tuple(o["shape"][-2:]): interp.get_tensor(o["index"]) for o in outs}
        enc = tensors[(1, 4)].reshape(-1, 4); logits = tensors[(1917, 2)].reshape(-1, 2)
        scores = 1 / (1 + np.exp(-logits[:, 1].astype(np.float64)))
        ya, xa = (anchors[:, 0] + anchors[:, 2]) / 2, (anchors[:, 1] + anchors[:, 3]) / 2
        ha, wa = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
        yc = enc[:, 0] / 10 * ha + ya; xc = enc[:, 1] / 10 * wa + xa
        h = np.exp(enc[:, 2] / 5) * ha; w = np.exp(enc[:, 3] / 5) * wa
        boxes = np.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], 1)
        sel = scores > 0.05
        b, s = boxes[sel], scores[sel]
        for i in nms(b, s, 0.6, 100):
            y1, x1, y2, x2 = b[i] * [info["height"], info["width"], info["height"], info["width"]]
            results.append({"image_id": info["id"], "category_id": 1, "score": float(s[i]),
                            "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]})
    ev = COCOeval(gt, gt.loadRes(results), "bbox"); ev.params.catIds = [1]
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate(); ev.accumulate(); ev.summarize()
    return ev.stats[0], ev.stats[1]

rows = [("fp32 (converter, shared)", os.path.join(person, "ssdlite_mobilenet_v2_person_fp32.tflite")),
        ("fp16 (converter, shared)", os.path.join(person, "ssdlite_mobilenet_v2_person_fp16.tflite")),
        ("fp16 (ours)", made["person fp16 (ours)"]),
        ("int8 (converter, shared)", os.path.join(person, "ssdlite_mobilenet_v2_person_int8.tflite")),
        (f"int8 (ours, {args.method}, {args.samples} images)", made["person int8 (ours)"])]
aps = {}
print("| file | person AP | AP50 |\n|---|---|---|")
for name, path in rows:
    aps[name] = person_ap(path)
    print(f"| {name} | {aps[name][0]:.4f} | {aps[name][1]:.4f} |")
ours16, conv16 = aps["fp16 (ours)"][0], aps["fp16 (converter, shared)"][0]
ours8, conv8 = aps[rows[4][0]][0], aps["int8 (converter, shared)"][0]
print(f"fp16: ours - converter = {ours16 - conv16:+.4f}; int8: ours - converter = {ours8 - conv8:+.4f} (goal: within 0.005)")
