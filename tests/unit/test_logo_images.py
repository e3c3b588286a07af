"""Uploaded logos are re-encoded without metadata; oversize, wrong-sized and non-images are refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from mypage.overrides.images import MAX_BYTES, ImageError, ImageRefused, clean_image


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (120, 40), (10, 125, 59))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {2: (35.0, 0.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"secret comment")
    return out.getvalue()


def _png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone@example.jp")
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 0, 0, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_jpeg_metadata_is_stripped():
    raw = _jpeg_with_exif()
    assert b"CameraMaker" in raw and b"secret comment" in raw
    clean = clean_image(raw)
    assert clean.content_type == "image/jpeg" and (clean.width, clean.height) == (120, 40)
    assert b"CameraMaker" not in clean.data and b"secret comment" not in clean.data
    reopened = Image.open(io.BytesIO(clean.data))
    assert not reopened.getexif() and "comment" not in reopened.info


def test_png_text_is_stripped_and_transparency_kept():
    clean = clean_image(_png_with_text())
    assert b"someone@example.jp" not in clean.data
    reopened = Image.open(io.BytesIO(clean.data))
    assert reopened.mode == "RGBA" and reopened.getpixel((0, 0))[3] == 128
    assert clean.name.endswith(".png") and len(clean.name) == 36


def test_webp_is_accepted():
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(out, format="WEBP")
    assert clean_image(out.getvalue()).content_type == "image/webp"


def test_trailing_data_after_the_image_is_dropped():
    raw = _png_with_text() + b"<script>alert(1)</script>"
    assert b"<script>" not in clean_image(raw).data


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", ImageRefused.EMPTY),
        (b"\x89PNG" + b"0" * (MAX_BYTES + 1), ImageRefused.TOO_LARGE),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", ImageRefused.NOT_AN_IMAGE),
        (b"GIF89a" + b"\x00" * 100, ImageRefused.NOT_AN_IMAGE),
        (b"just some text, not an image", ImageRefused.NOT_AN_IMAGE),
        (_png_with_text()[:60], ImageRefused.NOT_AN_IMAGE),  # truncated
    ],
    ids=["empty", "oversize", "svg", "gif", "text", "truncated"],
)
def test_refused_files(raw, reason):
    with pytest.raises(ImageError) as refused:
        clean_image(raw)
    assert refused.value.reason is reason


@pytest.mark.parametrize("size", [(2001, 20), (20, 2001), (8, 8)])
def test_dimension_limits(size):
    out = io.BytesIO()
    Image.new("L", size).save(out, format="PNG")
    with pytest.raises(ImageError) as refused:
        clean_image(out.getvalue())
    assert refused.value.reason is ImageRefused.DIMENSIONS
