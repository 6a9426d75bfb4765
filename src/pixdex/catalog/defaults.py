"""The catalog's defaults that the command line shows in ``--help``: plain values in a module that
imports nothing heavy, so that ``pixdex --help`` does not load numpy, the store or the index."""

from __future__ import annotations

from pathlib import Path

DEFAULT_PATH = Path("pixdex.db")
"""The catalog used when none is named (``--db`` or ``PIXDEX_DB``): in the working folder."""

DEFAULT_ALGORITHM = "dhash"

DEFAULT_INDEX_ALGORITHMS = (DEFAULT_ALGORITHM, f"{DEFAULT_ALGORITHM}:framed")
"""What ``index`` stores by default: dHash of the whole picture, inside its margins and of its
centre, the candidate views of the matching rule (``pixdex.matching``)."""

BATCH_SIZE = 500
"""Files per committed transaction while indexing: what an interrupted run can lose at most."""

FILE_TIME_LIMIT_S = 120.0
"""What ``Catalog.index`` allows one file (read, decode, hash), in seconds: a 623-megapixel PNG
takes 8 s on a 2-core machine, so this stops a decoder that hangs, not a large image on a busy
machine."""
