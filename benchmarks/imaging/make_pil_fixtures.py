#!/usr/bin/env python3
"""Makes the Imaging test fixtures from Pillow (the reference our decoder and resize must match).

Writes into Tests/ImagingTests/Fixtures/:
- pil_checksums.tsv: for every image of ../shared/data/coco-val2017-subset/images, the FNV-1a 64
  checksum of Pillow's decoded RGB pixels and of its BILINEAR resize to 300x300 and 256x256
  (the shared models' input sizes). Lets a Swift test prove byte-exactness on all 206 images.
- resized_<name>_<w>x<h>.rgb: raw RGB bytes of a few PIL resizes (odd sizes, an upscale), so a
  failure can say where and by how much.
- tiny JPEGs made by Pillow (grey, CMYK, truncated, garbage) and Pillow's RGB decode of the valid ones.

Usage: python3 benchmarks/imaging/make_pil_fixtures.py [SHARED_DIR]
"""
import io
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
IMAGES = os.path.join(SHARED, "data", "coco-val2017-subset", "images")
OUT = os.path.join(ROOT, "Tests", "ImagingTests", "Fixtures")


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:  # slow but simple; the images are small
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def rgb(path):
    with Image.open(path) as im:
        return im.convert("RGB")


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sorted(n for n in os.listdir(IMAGES) if n.lower().endswith((".jpg", ".jpeg")))
    with open(os.path.join(OUT, "pil_checksums.tsv"), "w") as f:
        f.write("# file\twidth\theight\tdecoded_fnv1a64\tresized300_fnv1a64\tresized256_fnv1a64\n")
        for n in names:
            im = rgb(os.path.join(IMAGES, n))
            r300 = im.resize((300, 300), Image.BILINEAR)
            r256 = im.resize((256, 256), Image.BILINEAR)
            f.write(f"{n}\t{im.width}\t{im.height}\t{fnv1a64(im.tobytes())}\t"
                    f"{fnv1a64(r300.tobytes())}\t{fnv1a64(r256.tobytes())}\n")

    # A few full resizes as raw bytes: downscale to model size, odd non-square sizes, an upscale.
    samples = [(names[0], 300, 300), (names[1], 123, 77), (names[2], 640 * 2 // 3 + 1, 61)]
    for n, w, h in samples:
        im = rgb(os.path.join(IMAGES, n))
        with open(os.path.join(OUT, f"resized_{os.path.splitext(n)[0]}_{w}x{h}.rgb"), "wb") as f:
            f.write(im.resize((w, h), Image.BILINEAR).tobytes())
    small = rgb(os.path.join(IMAGES, names[3])).resize((20, 15), Image.BILINEAR)
    with open(os.path.join(OUT, "upscaled_20x15_to_67x45.rgb"), "wb") as f:
        f.write(small.resize((67, 45), Image.BILINEAR).tobytes())
    with open(os.path.join(OUT, "small_20x15.rgb"), "wb") as f:
        f.write(small.tobytes())

    # Tiny JPEGs in the colour spaces Pillow converts: greyscale (L) and CMYK (Adobe-inverted).
    base = rgb(os.path.join(IMAGES, names[4])).resize((24, 16), Image.BILINEAR)
    grey = base.convert("L")
    grey.save(os.path.join(OUT, "grey_24x16.jpg"), quality=90)
    cmyk = base.convert("CMYK")
    # Give K some ink too, so the K channel is exercised.
    c, m, y, _ = cmyk.split()
    k = Image.fromarray((np.arange(24 * 16, dtype=np.uint32).reshape(16, 24) * 255 // (24 * 16)).astype(np.uint8))
    Image.merge("CMYK", (c, m, y, k)).save(os.path.join(OUT, "cmyk_24x16.jpg"), quality=90)
    for stem in ("grey_24x16", "cmyk_24x16"):
        with open(os.path.join(OUT, f"{stem}.pil.rgb"), "wb") as f:
            f.write(rgb(os.path.join(OUT, f"{stem}.jpg")).tobytes())
    # Truncated: a valid colour JPEG cut in half (after its header). Pillow refuses it
    # ("image file is truncated").
    buf = io.BytesIO()
    rgb(os.path.join(IMAGES, names[4])).resize((96, 64), Image.BILINEAR).save(buf, format="JPEG", quality=95)
    data = buf.getvalue()
    with open(os.path.join(OUT, "truncated_96x64.jpg"), "wb") as f:
        f.write(data[: len(data) // 2])
    try:
        rgb(os.path.join(OUT, "truncated_96x64.jpg")).tobytes()
        raise SystemExit("Pillow accepted the truncated JPEG; the fixture is not truncated enough")
    except OSError:
        pass
    with open(os.path.join(OUT, "not_a_jpeg.jpg"), "wb") as f:
        f.write(b"this is text, not a JPEG\n")


if __name__ == "__main__":
    main()
