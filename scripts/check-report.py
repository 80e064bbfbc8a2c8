#!/usr/bin/env python3
"""Renders a slotsim HTML report in headless Chromium (Debian's `chromium` package) and
checks the picture: it must not be blank, and the charts' line colours must be there.

    python3 scripts/check-report.py REPORT.html [OUT.png]

Exit status: 0 if the report renders with charts, 1 if not, 2 if Chromium is missing
(install it with: sudo apt-get install -y chromium).
Standard library only: the PNG is decoded here (8-bit RGB/RGBA, the format Chromium writes).
"""
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib


def decode_png(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG (depth {depth}, colour {colour})"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 1
    report = pathlib.Path(sys.argv[1]).resolve()
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        print("check-report: Chromium is not installed; install it with: sudo apt-get install -y chromium", file=sys.stderr)
        return 2
    out = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else pathlib.Path(tempfile.mkdtemp()) / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={out}",
                    "--window-size=1100,2200", report.as_uri()], check=True, capture_output=True, timeout=120)
    width, height, channels, rows = decode_png(out.read_bytes())
    pixels = width * height
    ink = 0
    colours = {"blue #1f77b4": (31, 119, 180), "red #d62728": (214, 39, 40), "green #2ca02c": (44, 160, 44)}
    found = {name: 0 for name in colours}
    for line in rows:
        for x in range(0, width * channels, channels):
            r, g, b = line[x], line[x + 1], line[x + 2]
            if r < 235 or g < 235 or b < 235:
                ink += 1
            for name, (cr, cg, cb) in colours.items():
                if abs(r - cr) < 12 and abs(g - cg) < 12 and abs(b - cb) < 12:
                    found[name] += 1
    share = ink / pixels
    print(f"check-report: {report.name} rendered to {out} ({width}×{height}); {share:.1%} of pixels drawn; "
          + ", ".join(f"{name}: {n} px" for name, n in found.items()))
    ok = share > 0.02 and sum(1 for n in found.values() if n > 50) >= 2
    if not ok:
        print("check-report: the picture looks blank or has no chart lines", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
