"""Coverage-guided fuzzing of ``pixdex.decode`` and the hashes with atheris (libFuzzer).

    python tests/fuzz_decode.py seeds FOLDER             # write the seed files, by format
    python tests/fuzz_decode.py run CORPUS... [-runs=N -max_total_time=S -timeout=S ...]

The target is ``fuzz_target.check``: an input must end as hashes or as one ``ImageError`` of one
line. Any other exception, a crash of the process, a run over ``-timeout`` seconds or over
``-rss_limit_mb`` is a finding, which libFuzzer writes under ``-artifact_prefix``; such an input
becomes a file in ``tests/fuzz_findings/`` (replayed by ``tests/test_fuzz.py``) and gets fixed.

Pillow's plug-ins and pixdex are instrumented (atheris' Python coverage); the C decoders under
them are not, but they run on every input the Python coverage leads to.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["PIL", "pixdex", "fuzz_target"]):
    from PIL import Image

    Image.init()  # imports every format plug-in now, instrumented
    from fuzz_target import check, write_seeds

    import pixdex.decode_streamed  # noqa: F401 - imported on demand otherwise: instrument it


def main(argv: list[str]) -> None:
    if len(argv) >= 3 and argv[1] == "seeds":
        for name, paths in write_seeds(Path(argv[2])).items():
            print(f"{name}: {len(paths)} seeds")
        return
    if len(argv) >= 2 and argv[1] == "run":
        atheris.Setup([argv[0], *argv[2:]], check)
        atheris.Fuzz()
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
