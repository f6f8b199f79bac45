#!/usr/bin/env python3
"""Pictures for trying `fashionlab predict` that are not the dataset's files: test images turned into what a
photo of the garment looks like (enlarged ×10 to 280×280, dark on a white background, in colour, placed off
centre on a larger canvas), and the same with noise. Standard library only; writes RGB PNGs.

    python3 scripts/make_predict_examples.py OUT_DIR [--data /usr/share/datasets/fashion-mnist] [--index 0 1 2]
"""
import argparse, gzip, os, random, struct, zlib

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(raw[3])]
    return raw[4 + 4 * len(dims):], dims


def write_png(path, width, height, rgb_rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rgb_rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def photo(pixels, noise, rng, canvas=(360, 320), origin=(50, 20), tint=(0.55, 0.35, 0.25)):
    """The 28×28 image enlarged ×10 (nearest neighbour), dark garment on white, tinted, on a white canvas."""
    width, height = canvas
    rows = []
    for y in range(height):
        row = []
        for x in range(width):
            sy, sx = (y - origin[1]) // 10, (x - origin[0]) // 10
            ink = pixels[sy * 28 + sx] / 255 if 0 <= sy < 28 and 0 <= sx < 28 else 0.0
            for channel in range(3):
                value = 255 * (1 - ink) + 255 * tint[channel] * ink
                if noise:
                    value += rng.gauss(0, noise)
                row.append(max(0, min(255, int(round(value)))))
        rows.append(row)
    return width, height, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--index", type=int, nargs="+", default=[0, 1, 2])
    a = ap.parse_args()
    images, _ = idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    labels, _ = idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz"))
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(0)
    for i in a.index:
        pixels = images[i * 784:(i + 1) * 784]
        for noise, suffix in [(0, "photo"), (25, "noisy")]:
            path = os.path.join(a.out, f"test{i}-{suffix}.png")
            write_png(path, *photo(pixels, noise, rng))
            print(f"{path}: test image {i}, a {NAMES[labels[i]]}{', noise σ=25' if noise else ''}")


if __name__ == "__main__":
    main()
