"""File, bytes or stream → pixels ready for hashing.

Contract (filled in by the decoding work):

``load_image(source, *, min_side=0, limits=DEFAULT_LIMITS) -> PIL.Image.Image``
    ``source``: path, bytes, binary file object or PIL image. Returns mode "RGB" or "L", the first
    frame, EXIF orientation applied, transparency composited onto white. JPEGs are decoded at the
    smallest DCT scale whose both sides are still ≥ ``min_side`` pixels (0: full size). Raises
    ``ImageError`` naming the source and the reason (zero-byte, truncated, not an image, over the
    pixel or byte limit, ...).
"""
