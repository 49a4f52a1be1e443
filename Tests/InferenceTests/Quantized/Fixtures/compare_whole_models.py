#!/usr/bin/env python3
"""Whole-model check of the quantized kernels: runs `ssd-energy invoke` and LiteRT with its
REFERENCE kernels (OpResolverType.BUILTIN_REF) on the same real COCO images and counts the output
elements that differ. Expected: none.

ssd_mobilenet_v1_coco_quant ends in the custom TFLite_Detection_PostProcess; for it the comparison
uses a copy of the model (in a temporary directory) whose outputs are that operator's two inputs
(box encodings and class scores after LOGISTIC) and which drops the operator.

Usage (from the repository root, after `swift build -c release --product ssd-energy`):
    python3 Tests/InferenceTests/Quantized/Fixtures/compare_whole_models.py [--images N] [--binary PATH]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import flatbuffers
import numpy as np
from PIL import Image
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../../.."))
SHARED = os.environ.get("SSD_ENERGY_DATA", os.path.join(ROOT, "../shared"))
MODELS = [
    "models/ssd_mobilenet_v1_coco_quant/detect.tflite",
    "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
    "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite",
]


def pack(model):
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def comparable_model(path):
    """The model bytes both runtimes can run: TILE's opcode version lowered to 2 (the highest the
    reference resolver registers; the kernel is the same), and a trailing custom
    TFLite_Detection_PostProcess replaced by outputs at its inputs."""
    model = schema.ModelT.InitFromPackedBuf(open(path, "rb").read(), 0)
    for code in model.operatorCodes:
        if code.builtinCode == schema.BuiltinOperator.TILE and code.version > 2:
            code.version = 2
    graph = model.subgraphs[0]
    last = graph.operators[-1]
    code = model.operatorCodes[last.opcodeIndex]
    if code.customCode == b"TFLite_Detection_PostProcess":
        graph.outputs = [int(i) for i in last.inputs[:2]]
        graph.operators = graph.operators[:-1]
    return pack(model)


def load_image(path, shape, dtype):
    image = Image.open(path).convert("RGB").resize((int(shape[2]), int(shape[1])), Image.BILINEAR)
    return np.asarray(image, dtype=dtype)[None, ...]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ssd-energy"))
    args = parser.parse_args()
    images_dir = os.path.join(SHARED, "data/coco-val2017-subset/images")
    images = sorted(os.listdir(images_dir))[: args.images]
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        for relative in MODELS:
            content = comparable_model(os.path.join(SHARED, relative))
            model_path = os.path.join(work, os.path.basename(relative))
            with open(model_path, "wb") as f:
                f.write(content)
            reference = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
            reference.allocate_tensors()
            detail = reference.get_input_details()[0]
            for name in images:
                x = load_image(os.path.join(images_dir, name), detail["shape"], detail["dtype"])
                input_path = os.path.join(work, "input.npy")
                np.save(input_path, x)
                out_dir = os.path.join(work, "out")
                run = subprocess.run([args.binary, "invoke", "--model", model_path, "--input-npy", input_path,
                                      "--outputs", out_dir], capture_output=True, text=True)
                if run.returncode != 0:
                    print(f"{os.path.basename(relative)}: ssd-energy invoke failed: {run.stderr.strip()}")
                    failures += 1
                    break
                reference.set_tensor(detail["index"], x)
                reference.invoke()
                for i, output in enumerate(reference.get_output_details()):
                    expected = reference.get_tensor(output["index"])
                    actual = np.load(os.path.join(out_dir, f"output_{i}.npy"))
                    if actual.shape != expected.shape or actual.dtype != expected.dtype:
                        print(f"{relative} {name} output {i}: {actual.dtype}{actual.shape} vs {expected.dtype}{expected.shape}")
                        failures += 1
                        continue
                    differ = int(np.count_nonzero(actual.view(np.uint8) != expected.view(np.uint8)))
                    largest = float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64))))
                    status = "exact" if differ == 0 else f"{differ} bytes differ, largest difference {largest:g}"
                    print(f"{os.path.basename(relative)} {name} output {i} {expected.dtype}{list(expected.shape)}: {status}")
                    failures += differ != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
