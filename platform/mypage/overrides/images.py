"""Uploaded logos: PNG, JPEG or WebP only, decoded and re-encoded with Pillow so that nothing but the pixels
survives (EXIF, GPS, comments, ICC profiles, trailing data, a script disguised as an image).

SVG is refused: an SVG is a document that can carry scripts and external references, and sanitising it
safely needs more than this portal should trust; operators upload a PNG or WebP of their logo instead.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from enum import Enum

from mypage.i18n import N_

MAX_BYTES = 1024 * 1024
"""Largest upload accepted (1 MiB)."""
MAX_SIDE = 2000
"""Largest width or height accepted, in pixels."""
MIN_SIDE = 16
MAX_PIXELS = MAX_SIDE * MAX_SIDE
FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}


class ImageRefused(Enum):
    """Why an upload is refused (the value is the message, translated where it is shown)."""

    EMPTY = N_("ファイルを選択してください。")
    TOO_LARGE = N_("ファイルが大きすぎます(1MBまで)。")
    NOT_AN_IMAGE = N_("PNG・JPEG・WebPの画像を選択してください(SVGは受け付けません)。")
    DIMENSIONS = N_("画像の幅・高さは16〜2000ピクセルにしてください。")


class ImageError(Exception):
    def __init__(self, reason: ImageRefused):
        self.reason = reason
        super().__init__(reason.value)


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def name(self) -> str:
        """Content-addressed file name: the same image is stored once."""
        return f"{hashlib.sha256(self.data).hexdigest()[:32]}.{self.extension}"


def clean_image(raw: bytes) -> CleanImage:
    """The image re-encoded without metadata; :class:`ImageError` says why it is refused."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # only for uploads (~2 MB once imported)

    if not raw:
        raise ImageError(ImageRefused.EMPTY)
    if len(raw) > MAX_BYTES:
        raise ImageError(ImageRefused.TOO_LARGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=list(FORMATS))
            kind = image.format or ""
            width, height = image.size
            if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                raise ImageError(ImageRefused.DIMENSIONS)
            image.load()
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as exc:
        raise ImageError(ImageRefused.NOT_AN_IMAGE) from exc
    content_type, extension = FORMATS[kind]
    upright = ImageOps.exif_transpose(image)  # the orientation the EXIF said, before the EXIF goes
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    if kind == "JPEG":
        pixels = upright.convert("RGB")
    else:
        pixels = upright.convert("RGBA" if has_alpha else "RGB")
    # A new image with only the pixels: no info dict (comments, ICC, EXIF, XMP) is carried over.
    bare = Image.new(pixels.mode, pixels.size)
    bare.paste(pixels)
    out = io.BytesIO()
    if kind == "PNG":
        bare.save(out, format="PNG", optimize=True)
    elif kind == "JPEG":
        bare.save(out, format="JPEG", quality=90, optimize=True)
    else:
        bare.save(out, format="WEBP", lossless=True)
    return CleanImage(out.getvalue(), content_type, extension, bare.width, bare.height)
