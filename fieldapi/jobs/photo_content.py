"""Photos as they are stored: decoded whole by Pillow, then written anew without metadata.

An upload is a JPEG, PNG or HEIC by its bytes (not its name), and only if Pillow reads it
to the last pixel with nothing after the image: a file that is also something else (HTML
behind a JPEG header, a script after the PNG's end) is a 415. What is stored is Pillow's
own encoding of the pixels, so EXIF (GPS position, device, time), XMP and comments never
reach anyone the photo is shown to; a JPEG keeps its quantization tables (no new loss)
unless its EXIF orientation had to be applied to the pixels first.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import filetype
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from fieldapi.errors import Unprocessable, UnsupportedMediaType

pillow_heif.register_heif_opener()

PHOTO_TYPES = {"image/jpeg", "image/png", "image/heic"}
MAX_PIXELS = 64_000_000  # a 64 MP phone camera; more is a decompression bomb, not a photo
_PILLOW_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIF"}
_ORIENTATION = 0x0112
_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND\xaeB`\x82"


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str


def not_a_photo(what: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"Photos must be JPEG, PNG or HEIC; this file is {what}.")


def too_many_pixels() -> Unprocessable:
    return Unprocessable(
        f"A photo may have at most {MAX_PIXELS // 1_000_000} megapixels.",
        errors={"file": ["Too many pixels."]},
    )


def sniffed_type(data: bytes) -> str:
    """JPEG, PNG or HEIC by the file's first bytes, else 415."""
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in PHOTO_TYPES:
        raise not_a_photo("an unknown type" if kind is None else kind.mime)
    return str(kind.mime)


def _ends_cleanly(data: bytes, content_type: str) -> bool:
    """Nothing but padding after the image's end marker (HEIC has none to look for: its
    boxes are read by libheif, and what it does not read is not written again)."""
    end = {"image/jpeg": _JPEG_END, "image/png": _PNG_END}.get(content_type)
    if end is None:
        return True
    position = data.rfind(end)
    return position >= 0 and not data[position + len(end) :].strip(b"\x00\r\n")


def clean_photo(data: bytes) -> CleanPhoto:
    """The photo re-encoded without metadata; 415 for what is not only a photo, 422 for a
    photo too large in pixels."""
    content_type = sniffed_type(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[content_type]])
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise too_many_pixels()
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise too_many_pixels() from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise not_a_photo("not a readable image") from error
    if not _ends_cleanly(data, content_type):
        raise not_a_photo("an image with something else after it")
    return CleanPhoto(_encoded(image, content_type), content_type)


def _encoded(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    image.info.clear()  # pillow-heif would write the EXIF and XMP it read back out
    if content_type == "image/jpeg":
        if image.getexif().get(_ORIENTATION, 1) != 1:
            ImageOps.exif_transpose(image).save(out, "JPEG", quality=90, **extra)
        else:
            image.save(out, "JPEG", quality="keep", subsampling="keep", **extra)
    elif content_type == "image/png":
        image.save(out, "PNG", optimize=False, **extra)
    else:
        ImageOps.exif_transpose(image).save(out, "HEIF", quality=90, **extra)
    return out.getvalue()
