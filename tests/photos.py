"""Real little photos for the tests, made with Pillow, and hostile files that look like them."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# Registers the HEIF opener and saver, as the app does.
import fieldapi.jobs.photo_content  # noqa: F401

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(fmt: str, size: tuple[int, int] = (8, 8), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, fmt, **options)
    return out.getvalue()


def _heic() -> bytes:
    """HEIC as the app writes it (a first encoding by another encoder differs a little)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(photo("HEIF"))).save(out, "HEIF", quality=90)
    return out.getvalue()


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (41.0, 53.0, 24.0), 3: "W", 4: (87.0, 37.0, 48.0)})
    return exif


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header announcing width x height pixels, with one tiny data chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


JPEG = photo("JPEG")
PNG = photo("PNG")
HEIC = _heic()
HTML = b"<html><script>alert(document.cookie)</script></html>"
HTML_BEHIND_A_JPEG_HEADER = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + HTML
)
JPEG_WITH_HTML_AFTER = JPEG + HTML
