#!/usr/bin/env python3
"""Writes whole_model_person_int8.json: the int8 SSDLite person model's outputs from LiteRT's
REFERENCE kernels (OpResolverType.BUILTIN_REF) for one input, so a Swift test can run the same
model through the interpreter's quantized dispatch and require identical bytes.

The input is a real COCO image shrunk to 75x75 (PIL bilinear) and stored; the test and this script
both blow it up to 300x300 by repeating each pixel 4x4, which keeps the fixture small and the
activations realistic.

Run from the repository root:  python3 Tests/InferenceTests/Quantized/Fixtures/make_whole_model_fixture.py
"""
import base64
import json
import os

import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter, OpResolverType

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SSD_ENERGY_DATA", os.path.join(HERE, "../../../../../shared"))
MODEL = "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite"
IMAGE = "data/coco-val2017-subset/images/000000000802.jpg"
REPEAT = 4


def main():
    interpreter = Interpreter(model_path=os.path.join(SHARED, MODEL),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    height, width = int(detail["shape"][1]) // REPEAT, int(detail["shape"][2]) // REPEAT
    small = np.asarray(Image.open(os.path.join(SHARED, IMAGE)).convert("RGB").resize((width, height), Image.BILINEAR),
                       dtype=np.uint8)
    full = np.repeat(np.repeat(small, REPEAT, axis=0), REPEAT, axis=1)[None, ...]
    assert full.shape == tuple(detail["shape"]) and full.dtype == detail["dtype"]
    interpreter.set_tensor(detail["index"], full)
    interpreter.invoke()
    outputs = []
    for output in interpreter.get_output_details():
        value = np.ascontiguousarray(interpreter.get_tensor(output["index"]))
        outputs.append({"name": output["name"], "type": value.dtype.name, "shape": [int(d) for d in value.shape],
                        "data": base64.b64encode(value.astype(value.dtype.newbyteorder("<")).tobytes()).decode()})
    fixture = {
        "source": f"{MODEL}, LiteRT BUILTIN_REF, {os.path.basename(IMAGE)} shrunk to {width}x{height} then each pixel repeated {REPEAT}x{REPEAT}",
        "model": MODEL,
        "pixelRepeat": REPEAT,
        "smallImage": {"shape": [height, width, 3], "data": base64.b64encode(small.tobytes()).decode()},
        "outputs": outputs,
    }
    path = os.path.join(HERE, "whole_model_person_int8.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
