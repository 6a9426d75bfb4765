"""``make demo``: the original workflow end to end on real sample photographs, offline.

    python -m pixdex.demo [FOLDER]      (default: out/demo)

1. a library: every photograph, scan and drawing scikit-image ships (the ``demo`` extra), copied
   into ``FOLDER/library``;
2. queries like the original design's: photos with a small red square drawn in a corner, photos
   with large shapes and text drawn over them, and a half-size JPEG re-save, in ``FOLDER/queries``;
3. the commands a user types, run as a user runs them: ``pixdex index`` (progress bar and
   summary), ``pixdex search`` over the queries (matches with distance and hash, an HTML report
   with thumbnails), ``pixdex dupes`` (the copies inside the library), ``pixdex info``;
4. for each query, whether that default search found the photo it was made from, and which it
   missed, said plainly: the demo shows what the default rule does, not what one would like.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from pixdex.evaluation.edits import apply_edit, load_rgb

QUERY_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")
"""The library photos edited into queries."""

QUERY_EDITS = ("red-square", "shapes-text", "resize-50")
"""The original's two demo edits, plus a smaller re-save."""

EDIT_WORDS = {
    "red-square": "a small red square drawn in a corner",
    "shapes-text": "large shapes and a line of text drawn over the photo",
    "resize-50": "half the size, saved again as JPEG",
}
"""What each query edit did, in the words the demo's summary uses."""

LIBRARY_SUFFIXES = {".png", ".jpg", ".gif", ".tif"}


def sample_images() -> list[Path]:
    """scikit-image's bundled sample images; a one-line error when the extra is missing."""
    try:
        import skimage
    except ImportError:
        sys.exit("pixdex demo: the sample images come with scikit-image: pip install pixdex[demo]")
    data = Path(skimage.__file__).parent / "data"
    return sorted(p for p in data.iterdir() if p.suffix in LIBRARY_SUFFIXES)


DUPLICATED = "chelsea.png"
"""The sample the demo library holds a second, smaller copy of."""


def build(folder: Path) -> tuple[Path, Path]:
    """Write the library and the edited queries under ``folder``; (library, queries)."""
    library, queries = folder / "library", folder / "queries"
    for path in (library, queries):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    sources = sample_images()
    for source in sources:
        shutil.copy(source, library / source.name)
    by_name = {p.name: p for p in sources}
    # A re-saved, smaller copy inside the library: what `pixdex dupes` should group with its
    # source (the stereo pair motorcycle_left / motorcycle_right is two pictures, not a copy).
    copy = load_rgb(by_name[DUPLICATED])
    copy.resize((copy.width // 2, copy.height // 2)).save(
        library / f"{Path(DUPLICATED).stem}-small-copy.jpg", quality=80
    )
    for seed, name in enumerate(QUERY_PHOTOS):
        photo = load_rgb(by_name[name])
        for edit in QUERY_EDITS:
            edited = apply_edit(edit, photo, seed)
            stem = f"{Path(name).stem}.{edit}"
            if edit == "resize-50":
                edited.save(queries / f"{stem}.jpg", quality=85)
            else:
                edited.save(queries / f"{stem}.png")
    return library, queries


def run(*args: str | Path) -> None:
    """Run ``pixdex ARGS`` in a subprocess, echoing the command as a user would type it."""
    words = [str(a) for a in args]
    print(f"\n$ pixdex {shlex.join(words)}", flush=True)
    subprocess.run([sys.executable, "-m", "pixdex.cli", *words], check=True)


def missed_sources(library: Path, queries: Path, db: Path) -> tuple[int, list[Path]]:
    """Run the same default search again (as JSON, not shown): how many queries there were, and
    those whose source photo was not among their matches."""
    done = subprocess.run(
        [sys.executable, "-m", "pixdex.cli", "search", str(queries), "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    results = [json.loads(line) for line in done.stdout.splitlines()]
    sources = {Path(name).stem: library.resolve() / name for name in QUERY_PHOTOS}
    missed = []
    for result in results:
        query = Path(result["query"])
        source = sources[query.name.split(".")[0]]
        if str(source) not in (match["path"] for match in result["matches"]):
            missed.append(query)
    return len(results), missed


def print_summary(total: int, missed: list[Path]) -> None:
    """One line on how the default search did, then each miss with the edit that made it."""
    print(
        f"\nthe default search (`pixdex search` with no options) found the source photo of "
        f"{total - len(missed)} of {total} queries"
    )
    for query in missed:
        edit = query.name.split(".")[1]
        print(f"  not found: {query.name} ({EDIT_WORDS.get(edit, edit)})")
    if missed:
        print("  `pixdex eval` measures how often each edit is found (README: Evaluation)")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "out/demo")
    library, queries = build(folder)
    db = folder / "pixdex.db"
    db.unlink(missing_ok=True)
    print(
        f"demo library: {len(list(library.iterdir()))} sample images in {library}; "
        f"{len(list(queries.iterdir()))} edited queries in {queries}"
    )
    run("index", library, "--db", db)
    run("search", queries, "--db", db, "--report", folder / "report.html")
    print_summary(*missed_sources(library, queries, db))
    run("dupes", "--db", db)
    run("info", "--db", db)
    print(f"\nopen {folder / 'report.html'} to see each query beside its matches")


if __name__ == "__main__":
    main()
