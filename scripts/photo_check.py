#!/usr/bin/env python3
"""Does `predict` give the same classes for a JPEG and a PNG of the same picture, some JPEGs stored rotated
with an EXIF orientation tag (so that they display upright)?

Takes the first 20 test images, makes each a photo-like picture (enlarged to 280×280, dark and tinted on a
light background with a border, off centre, slightly blurred, its brightness varied, a little noise), saves it
as PNG and as JPEG (every third JPEG stored turned or mirrored, tagged with the orientation 2…8 that undoes it),
runs `fashionlab predict` on each folder and compares the top classes file by file.

    /work/main/.venv/bin/python scripts/photo_check.py [--model RUN] [--work DIR] [--fashionlab .build/release/fashionlab]

Without --model it trains one first (`train --epochs 1`, the notebook's MLP with Adam, about a minute on
2 cores). Needs Pillow. Exit status 0 when every pair agrees.
"""
import argparse, gzip, json, os, random, subprocess, sys

from PIL import Image, ImageEnhance, ImageFilter

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Pillow transposes that store a picture so that EXIF orientation o shows it upright (o = 2…8).
STORE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
         5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(raw[3])]
    return raw[4 + 4 * len(dims):], dims


def photo(pixels, rng):
    """A 28×28 test image as a photo of the garment: dark on a light, bordered background, tinted, blurred."""
    garment = Image.frombytes("L", (28, 28), bytes(pixels)).resize((280, 280), Image.Resampling.BICUBIC)
    tint = tuple(rng.randint(40, 110) for _ in range(3))
    paper = (rng.randint(225, 245), rng.randint(222, 240), rng.randint(215, 235))
    ink = Image.new("RGB", (280, 280), tint)
    canvas = Image.new("RGB", (340, 330), (200, 198, 190))              # the table around the paper
    sheet = Image.new("RGB", (316, 306), paper)
    sheet.paste(ink, (rng.randint(10, 26), rng.randint(8, 20)), garment)  # the garment's pixels as the mask
    canvas.paste(sheet, (12, 12))
    canvas = canvas.filter(ImageFilter.GaussianBlur(1.2))
    canvas = ImageEnhance.Brightness(canvas).enhance(rng.uniform(0.85, 1.1))
    noisy = [max(0, min(255, v + int(rng.gauss(0, 4)))) for v in canvas.tobytes()]
    return Image.frombytes("RGB", canvas.size, bytes(noisy))


def predict(fashionlab, model, folder):
    run = subprocess.run([fashionlab, "predict", model, folder, "--json", "--sheet", folder + "-sheet.png"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"predict {folder} failed ({run.returncode}):\n{run.stderr}")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    return {os.path.splitext(os.path.basename(p["image"]))[0]: p["top"][0] for p in lines}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--work", default="/tmp/fashionlab-photo-check")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--fashionlab", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "fashionlab"))
    ap.add_argument("--count", type=int, default=20)
    a = ap.parse_args()
    png_dir, jpeg_dir = os.path.join(a.work, "png"), os.path.join(a.work, "jpeg")
    for d in (png_dir, jpeg_dir):
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            os.remove(os.path.join(d, name))
    model = a.model
    if model is None:
        model = os.path.join(a.work, "model")
        print(f"training {model} (1 epoch, Adam 0.001) …", flush=True)
        subprocess.run([a.fashionlab, "train", "--epochs", "1", "--optimizer", "adam", "--lr", "0.001", "--data", a.data,
                        "--out", model, "--quiet"], check=True)
    images, _ = idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    labels, _ = idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz"))
    rng = random.Random(0)
    stored_as = {}
    for i in range(a.count):
        picture = photo(images[i * 784:(i + 1) * 784], rng)
        stem = f"test{i:02d}"
        picture.save(os.path.join(png_dir, stem + ".png"))
        orientation = 2 + (i // 3) % 7 if i % 3 == 0 else 1
        stored = picture if orientation == 1 else picture.transpose(STORE[orientation])
        exif = Image.Exif()
        if orientation != 1:
            exif[0x0112] = orientation
        stored.save(os.path.join(jpeg_dir, stem + ".jpg"), "JPEG", quality=85, exif=exif.tobytes(), progressive=(i % 2 == 1))
        stored_as[stem] = orientation
    from_png, from_jpeg = predict(a.fashionlab, model, png_dir), predict(a.fashionlab, model, jpeg_dir)
    same = 0
    print(f"{'picture':8} {'true class':12} {'JPEG stored':22} {'PNG says':20} {'JPEG says':20}")
    for i in range(a.count):
        stem = f"test{i:02d}"
        p, j = from_png[stem], from_jpeg[stem]
        agree = p["label"] == j["label"]
        same += agree
        how = ("progressive" if i % 2 else "baseline") + (f", EXIF {stored_as[stem]}" if stored_as[stem] != 1 else "")
        print(f"{stem:8} {NAMES[labels[i]]:12} {how:22} {p['name'] + ' %.0f%%' % (100 * p['probability']):20} "
              f"{j['name'] + ' %.0f%%' % (100 * j['probability']):20} {'' if agree else 'DIFFERENT'}")
    correct = sum(from_png[f"test{i:02d}"]["label"] == labels[i] for i in range(a.count))
    print(f"\nsame class for PNG and JPEG: {same}/{a.count}; PNG right {correct}/{a.count}; "
          f"contact sheets: {png_dir}-sheet.png, {jpeg_dir}-sheet.png")
    sys.exit(0 if same == a.count else 1)


if __name__ == "__main__":
    main()
