#!/usr/bin/env python3
"""The picture files the FashionImaging tests decode: JPEGs (baseline, progressive, gray, RGB and CMYK, every EXIF
orientation 1-8 of one asymmetric picture, a big-endian EXIF and a malformed one), PNGs of every kind (1/2/4/16-bit,
Adam7-interlaced, palette with and without tRNS, gray+alpha, RGBA, tRNS on gray and RGB) each beside the 8-bit
non-interlaced reference it must decode to, and a GIF and a BMP for the "not supported" errors.

The PNGs are written here byte by byte (every filter type, every bit depth), so the tests do not rest on
another encoder's choices; each file is then read back with Pillow and checked against the samples meant.

    /work/main/.venv/bin/python scripts/make_photo_fixtures.py [OUT_DIR]   # default Tests/FashionImagingTests/Fixtures

Needs Pillow (`pip install pillow`). Running it again rewrites the same files (JPEG bytes depend on the
libjpeg in Pillow; the tests compare decoded pixels within a tolerance, not bytes).
"""
import io, os, struct, sys, zlib

from PIL import Image, ImageOps

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "FashionImagingTests", "Fixtures")


# ---------------------------------------------------------------- PNG, by hand

def pack_row(samples, depth):
    """One row of samples as PNG stores them: MSB-first bits for depth < 8, big-endian pairs for 16."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, accumulator, bits = bytearray(), 0, 0
    for s in samples:
        assert 0 <= s < (1 << depth)
        accumulator = (accumulator << depth) | s
        bits += depth
        if bits == 8:
            out.append(accumulator); accumulator, bits = 0, 0
    if bits:
        out.append(accumulator << (8 - bits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_rows(rows, bpp):
    """Filters packed rows, cycling through None, Sub, Up, Average and Paeth."""
    out, previous = bytearray(), bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        kind = y % 5
        out.append(kind)
        for x, value in enumerate(row):
            a = row[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            out.append((value - predictor) & 0xFF)
        previous = row
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def write_png(name, width, height, color_type, depth, pixels, palette=None, trns=None, interlace=False):
    """`pixels[y][x]` is a tuple of samples (already at `depth`). Writes OUT/name."""
    channels = CHANNELS[color_type]
    bpp = max(1, channels * depth // 8)
    def rows_of(xs, ys):
        return [pack_row([s for x in xs for s in pixels[y][x]], depth) for y in ys]
    if interlace:
        data = b""
        for x0, y0, dx, dy in ADAM7:
            xs, ys = range(x0, width, dx), range(y0, height, dy)
            if len(xs) and len(ys):
                data += filter_rows(rows_of(xs, ys), bpp)
    else:
        data = filter_rows(rows_of(range(width), range(height)), bpp)
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        png += chunk(b"PLTE", bytes(v for entry in palette for v in entry))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    png += chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b"")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(png)
    return os.path.join(OUT, name)


def data(image):
    """The pixels as a list (Pillow 13 renamed getdata)."""
    return list(image.get_flattened_data() if hasattr(image, "get_flattened_data") else image.getdata())


def check_with_pillow(path, expected_rgba, raw_gray=None):
    """Pillow must read the file as the RGBA pixels meant (16-bit colour truncated, as Pillow does; 16-bit
    gray, which Pillow keeps at 16 bits, as the raw samples)."""
    with Image.open(path) as image:
        image.load()
        if image.mode.startswith("I"):
            got, expected_rgba = data(image), raw_gray
        else:
            got = data(image.convert("RGBA"))
    assert got == expected_rgba, f"{path}: Pillow reads other pixels than were written"


def to_rgba(pixels, color_type, depth, palette=None, trns=None):
    """What Pillow should read: 8-bit RGBA from samples at `depth`."""
    out = []
    for row in pixels:
        for s in row:
            if color_type == 3:
                r, g, b = palette[s[0]]
                a = trns[s[0]] if trns is not None and s[0] < len(trns) else 255
                out.append((r, g, b, a)); continue
            if depth == 16:
                v = [x >> 8 for x in s]
            elif depth < 8:
                v = [x * 255 // ((1 << depth) - 1) for x in s]
            else:
                v = list(s)
            if color_type == 0:
                a = 0 if trns is not None and s[0] == struct.unpack(">H", trns)[0] else 255
                out.append((v[0], v[0], v[0], a))
            elif color_type == 4:
                out.append((v[0], v[0], v[0], v[1]))
            elif color_type == 2:
                a = 0 if trns is not None and tuple(s) == struct.unpack(">HHH", trns) else 255
                out.append((v[0], v[1], v[2], a))
            else:
                out.append(tuple(v))
    return out


def png(name, width, height, color_type, depth, pixels, **options):
    path = write_png(name, width, height, color_type, depth, pixels, **options)
    check_with_pillow(path, to_rgba(pixels, color_type, depth, options.get("palette"), options.get("trns")),
                      raw_gray=[p[0] for row in pixels for p in row])


def widen(pixels):
    """8-bit samples as 16-bit ones that are not simply v·257: each is off by up to ±50, so that a decoder that
    keeps the high byte (instead of rounding) gets some of them wrong by one."""
    return [[tuple(max(0, min(65535, v * 257 + ((x * 37 + y * 11 + i * 5) % 101) - 50)) for i, v in enumerate(p))
             for x, p in enumerate(row)] for y, row in enumerate(pixels)]


def make_pngs():
    w, h = 13, 11   # odd sizes: partial bytes at 1/2/4 bits and uneven Adam7 passes
    rgba = [[((x * 19 + y * 7) % 256, (x * 5 + y * 29 + 60) % 256, (255 - x * 13 - y * 3) % 256, (x * y * 11 + 30) % 256)
             for x in range(w)] for y in range(h)]
    rgb = [[p[:3] for p in row] for row in rgba]
    gray = [[((x * 23 + y * 17) % 256,) for x in range(w)] for y in range(h)]
    graya = [[(gray[y][x][0], rgba[y][x][3]) for x in range(w)] for y in range(h)]
    levels = [[((x + 2 * y) % 4,) for x in range(w)] for y in range(h)]          # 2-bit samples 0…3
    bilevel = [[(1 if (x * 3 + y) % 5 < 2 else 0,) for x in range(w)] for y in range(h)]
    # References: 8-bit, not interlaced (what the decoder read before).
    png("ref-rgba.png", w, h, 6, 8, rgba)
    png("ref-rgb.png", w, h, 2, 8, rgb)
    png("ref-gray.png", w, h, 0, 8, gray)
    png("ref-graya.png", w, h, 4, 8, graya)
    png("ref-gray-4levels.png", w, h, 0, 8, [[(v[0] * 85,) for v in row] for row in levels])
    png("ref-gray-bilevel.png", w, h, 0, 8, [[(v[0] * 255,) for v in row] for row in bilevel])
    # Bit depths and interlacing.
    png("gray16.png", w, h, 0, 16, widen(gray))
    png("gray16-interlaced.png", w, h, 0, 16, widen(gray), interlace=True)
    png("gray8-interlaced.png", w, h, 0, 8, gray, interlace=True)
    png("gray4.png", w, h, 0, 4, [[(v[0] * 5,) for v in row] for row in levels])
    png("gray4-interlaced.png", w, h, 0, 4, [[(v[0] * 5,) for v in row] for row in levels], interlace=True)
    png("gray2.png", w, h, 0, 2, levels)
    png("gray1.png", w, h, 0, 1, bilevel)
    png("gray1-interlaced.png", w, h, 0, 1, bilevel, interlace=True)
    png("graya16.png", w, h, 4, 16, widen(graya))
    png("graya8-interlaced.png", w, h, 4, 8, graya, interlace=True)
    png("rgb16.png", w, h, 2, 16, widen(rgb))
    png("rgb8-interlaced.png", w, h, 2, 8, rgb, interlace=True)
    png("rgb16-interlaced.png", w, h, 2, 16, widen(rgb), interlace=True)
    png("rgba16.png", w, h, 6, 16, widen(rgba))
    png("rgba8-interlaced.png", w, h, 6, 8, rgba, interlace=True)
    # Palette: four colours; tRNS gives the first two an alpha (the rest stay opaque).
    palette = [(200, 30, 40), (20, 160, 90), (250, 250, 250), (10, 20, 30)]
    trns = bytes([0, 128])
    png("ref-palette.png", w, h, 2, 8, [[palette[v[0]] for v in row] for row in levels])
    png("ref-palette-trns.png", w, h, 6, 8, [[palette[v[0]] + ((0, 128)[v[0]] if v[0] < 2 else 255,) for v in row] for row in levels])
    png("palette8.png", w, h, 3, 8, levels, palette=palette)
    png("palette4.png", w, h, 3, 4, levels, palette=palette)
    png("palette2.png", w, h, 3, 2, levels, palette=palette)
    png("palette8-trns.png", w, h, 3, 8, levels, palette=palette, trns=trns)
    png("palette2-trns-interlaced.png", w, h, 3, 2, levels, palette=palette, trns=trns, interlace=True)
    # tRNS on gray and RGB: one colour is transparent.
    key_gray = gray[3][4][0]
    png("ref-gray-trns.png", w, h, 4, 8, [[(v[0], 0 if v[0] == key_gray else 255) for v in row] for row in gray])
    png("gray8-trns.png", w, h, 0, 8, gray, trns=struct.pack(">H", key_gray))
    key_rgb = rgb[5][6]
    png("ref-rgb-trns.png", w, h, 6, 8, [[p + ((0,) if p == key_rgb else (255,)) for p in row] for row in rgb])
    png("rgb8-trns.png", w, h, 2, 8, rgb, trns=struct.pack(">HHH", *key_rgb))
    # A 3×2 image: most Adam7 passes are empty.
    tiny = [[(x * 80, y * 200, 40 + x + y) for x in range(3)] for y in range(2)]
    png("ref-tiny.png", 3, 2, 2, 8, tiny)
    png("tiny-interlaced.png", 3, 2, 2, 8, tiny, interlace=True)


# ---------------------------------------------------------------- JPEG, through Pillow

# Pillow's transposes that undo orientation o (as ImageOps.exif_transpose applies them); the file stores the
# inverse of that, so that a viewer that honours the tag shows the upright picture.
STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
         5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def upright_photo():
    """32×24, 8×8 blocks of flat colour (JPEG keeps them almost exactly), no two blocks alike and no symmetry:
    any wrong rotation or flip moves some block to where another colour belongs."""
    image = Image.new("RGB", (32, 24))
    for by in range(3):
        for bx in range(4):
            colour = ((bx * 60 + by * 25) % 256, (by * 90 + 40) % 256, (bx * 35 + by * 70 + 20) % 256)
            for y in range(by * 8, by * 8 + 8):
                for x in range(bx * 8, bx * 8 + 8):
                    image.putpixel((x, y), colour)
    return image


def save_jpeg(image, name, orientation=None, progressive=False):
    options = dict(quality=95, progressive=progressive)
    if image.mode == "RGB":
        options["subsampling"] = 0  # 4:4:4, so that colour edges stay where they are
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buffer.getvalue())
    return buffer.getvalue()


def check_upright(name, upright, tolerance=8):
    with Image.open(os.path.join(OUT, name)) as stored:
        shown = ImageOps.exif_transpose(stored).convert(upright.mode)
    assert shown.size == upright.size, f"{name}: {shown.size} vs {upright.size}"
    worst = max(abs(a - b) for p, q in zip(data(shown), data(upright))
                for a, b in zip(p if isinstance(p, tuple) else (p,), q if isinstance(q, tuple) else (q,)))
    assert worst <= tolerance, f"{name}: differs from the upright picture by {worst}"


def with_app1(jpeg, body):
    """The JPEG with an APP1 segment (`body`) inserted right after its SOI marker."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def make_jpegs():
    upright = upright_photo()
    upright.save(os.path.join(OUT, "ref-photo.png"))
    upright.convert("L").save(os.path.join(OUT, "ref-photo-gray.png"))
    for orientation in range(1, 9):
        stored = upright if STORE[orientation] is None else upright.transpose(STORE[orientation])
        save_jpeg(stored, f"orientation-{orientation}.jpg", orientation)
        check_upright(f"orientation-{orientation}.jpg", upright)
    save_jpeg(upright, "progressive.jpg", progressive=True)
    check_upright("progressive.jpg", upright)
    save_jpeg(upright.convert("L"), "gray.jpg")
    check_upright("gray.jpg", upright.convert("L"))
    save_jpeg(upright.convert("L").transpose(STORE[6]), "gray-progressive-orientation-6.jpg", 6, progressive=True)
    check_upright("gray-progressive-orientation-6.jpg", upright.convert("L"))
    # EXIF by hand: big-endian (Motorola) byte order, orientation 8, the tag second in IFD0.
    plain = save_jpeg(upright.transpose(STORE[8]), "plain-rotated.jpg")
    os.remove(os.path.join(OUT, "plain-rotated.jpg"))
    ifd = struct.pack(">H", 2) + struct.pack(">HHII", 0x010F, 2, 4, 0x46617368) + struct.pack(">HHIHH", 0x0112, 3, 1, 8, 0) + struct.pack(">I", 0)
    with open(os.path.join(OUT, "exif-big-endian-8.jpg"), "wb") as f:
        f.write(with_app1(plain, b"Exif\x00\x00" + b"MM\x00\x2a" + struct.pack(">I", 8) + ifd))
    check_upright("exif-big-endian-8.jpg", upright)
    # Malformed EXIF: IFD0 said to lie far past the segment. The orientation is ignored: the picture comes
    # out as stored, without an error.
    with open(os.path.join(OUT, "exif-malformed.jpg"), "wb") as f:
        f.write(with_app1(save_jpeg(upright, "tmp.jpg"), b"Exif\x00\x00" + b"II\x2a\x00" + struct.pack("<I", 0x7FFFFFF0) + b"\x00" * 8))
    os.remove(os.path.join(OUT, "tmp.jpg"))
    make_cmyk()


def make_cmyk():
    """A CMYK JPEG as print software saves it: Pillow writes Adobe's convention (an APP14 "Adobe" marker, every
    sample inverted); cyan = 255 - red and so on, no black."""
    upright = upright_photo()
    save_jpeg(upright.convert("CMYK"), "cmyk.jpg")
    with Image.open(os.path.join(OUT, "cmyk.jpg")) as stored:
        assert stored.mode == "CMYK" and "adobe" in stored.info, "cmyk.jpg: not an Adobe CMYK JPEG"
    check_upright("cmyk.jpg", upright.convert("CMYK"))


def make_others():
    image = upright_photo()
    image.save(os.path.join(OUT, "picture.gif"))
    image.save(os.path.join(OUT, "picture.bmp"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_pngs()
    make_jpegs()
    make_others()
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total} bytes in {os.path.normpath(OUT)}")
