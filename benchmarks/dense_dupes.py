"""Issue 13's duplicate bar: keeper-verified grouping at the density of a real collection.

Parts 3 (``density``) and 4 (``hard``) of ``python -m benchmarks dupes``:

- **Grouping at density**: catalogs grown from the hard corpus's pictures
  (``benchmarks.dense_catalog``), dense (each entry a real dHash with 0-20 bits flipped and its
  picture's edited signature) and sparse (the self-join benchmark's clusters, mean 8), grouped at
  D = 8 exactly as ``pixdex dupes`` groups them (``find_duplicates``' rule path without the
  store: codes with a neighbour, their tables, the keeper loop). Wall time, verifications and
  the process's peak RSS (``VmHWM``, reset before each case through ``/proc/self/clear_refs``).
  The catalog's codes and signatures are made before the clock starts; reading them from a
  store and building the result objects are not timed.
- **Precision on the hard corpus**: ``Catalog.duplicates()`` with defaults on the whole hard
  corpus (indexed once into ``.cache/hard-catalog.db``): the share of grouped (keeper, member)
  pairs showing one picture (same corpus group), and the share of planted second copies grouped
  with their source. Target: precision ≥ 99 %. Then the same at stricter shares of content
  preserved (``TRADE_OFF``): the trade-off between precision and planted copies grouped. Then
  the same on each half of the corpus alone (its own catalog), the test half held out.

Quick mode (``PIXDEX_BENCH_QUICK=1``) grows 20k entries; ``PIXDEX_BENCH_DENSE=100000,1000000``
chooses the dense sizes.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import CACHE
from benchmarks.dense_catalog import VIEWS, grown_catalog, grown_views, real_pictures, real_views
from benchmarks.hard_corpus import HARD
from pixdex.catalog import Catalog, FileRecord, SQLiteStore
from pixdex.catalog.keeper_groups import listed_pairs, node_rows, verified_around_keepers
from pixdex.catalog.location import open_store
from pixdex.hashing import Hash
from pixdex.index.neighbours import has_neighbour, neighbour_tables
from pixdex.matching import DEFAULT_RULE, MatchRule

QUICK = os.environ.get("PIXDEX_BENCH_QUICK") == "1"
DENSE_SIZES = [
    int(size)
    for size in os.environ.get("PIXDEX_BENCH_DENSE", "20000" if QUICK else "100000,200000").split(
        ","
    )
]
SPARSE_SIZE = 50_000 if QUICK else 1_000_000
DISTANCE = 8
VIEWS_IN_COMMAND = os.environ.get("PIXDEX_BENCH_DENSE_VIEWS", "1") == "1"
"""Whether the command's catalog holds the candidate views too, grown as the whole dHash is
(``dense_catalog.grown_views``), as a catalog indexed with defaults does; ``0``: the whole
picture's dHash alone (the catalog of the figures before 4 December 2026, session 33)."""
DATABASE = CACHE / "hard-catalog.db"


def peak_rss() -> int:
    """The process's peak resident set since the last ``reset_peak`` (bytes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    """Start the peak RSS afresh (Linux: writing 5 to ``clear_refs``)."""
    Path("/proc/self/clear_refs").write_text("5")


def group(codes: np.ndarray, signatures: np.ndarray, rng: np.random.Generator) -> dict:
    """``find_duplicates``' rule path on arrays, keeper order random: labels and counts."""
    started = time.perf_counter()
    involved = has_neighbour(neighbour_tables(codes, DISTANCE))
    tables = neighbour_tables(codes[involved], DISTANCE)
    nodes = np.flatnonzero(involved)
    signatures = signatures[involved]
    empty = np.zeros(0, np.int64)
    listed = listed_pairs(nodes.size, empty, empty, np.zeros(0, np.int8), signatures)
    prepared = time.perf_counter()
    rows = node_rows(np.arange(nodes.size), nodes.size)  # a grown entry has one view
    grouped = verified_around_keepers(
        rng.permutation(nodes.size), tables, rows, listed, signatures, DEFAULT_RULE.verifier
    )
    done = time.perf_counter()
    return {
        "nodes": nodes,
        "labels": grouped.labels,
        "verifications": grouped.verifications,
        "tables_s": prepared - started,
        "keepers_s": done - prepared,
        "total_s": done - started,
    }


def bench_density(codes: np.ndarray, signatures: np.ndarray, pictures: list[str]) -> list[dict]:
    picture_group = _groups_of(pictures)
    rng = np.random.default_rng(13)
    cases = [("dense", n, False) for n in DENSE_SIZES] + [("sparse", SPARSE_SIZE, True)]
    warm = grown_catalog(5000, codes, signatures, rng)
    group(warm[0], warm[1], rng)  # compile outside the timings
    print(
        f"\ngrouping at D = {DISTANCE}, catalogs grown from {codes.shape[0]} hard-corpus pictures"
    )
    print(
        f"{'case':>7} {'entries':>10} {'pairs/entry':>11} {'grouped':>9} {'groups':>8} "
        f"{'verif.':>10} {'tables s':>9} {'keepers s':>9} {'total s':>8} {'peak RSS':>9}"
        f" {'µs/verif.':>9} {'other pic.':>10}"
    )
    rows = []
    for name, n, sparse in cases:
        grown, grown_signatures, picture = grown_catalog(n, codes, signatures, rng, sparse=sparse)
        reset_peak()
        result = group(grown, grown_signatures, rng)
        peak = peak_rss()
        nodes, labels = result["nodes"], result["labels"]
        members = labels != np.arange(labels.size)
        truth = picture_group[picture[nodes]]
        mixed = int((truth[members] != truth[labels[members]]).sum())
        sizes = np.bincount(labels, minlength=labels.size)
        row = {
            "case": name,
            "entries": n,
            "grouped": int(members.sum() + (sizes > 1).sum()),
            "groups": int((sizes > 1).sum()),
            "verifications": result["verifications"],
            "tables_s": result["tables_s"],
            "keepers_s": result["keepers_s"],
            "total_s": result["total_s"],
            "peak_rss": peak,
            "members_of_another_picture": mixed,
            "members": int(members.sum()),
            "neighbours_per_entry": _neighbours_per_entry(grown, rng),
        }
        rows.append(row)
        per = 1e6 * result["keepers_s"] / max(1, result["verifications"])
        print(
            f"{name:>7} {n:>10,} {row['neighbours_per_entry']:>11.0f} {row['grouped']:>9,} "
            f"{row['groups']:>8,} {row['verifications']:>10,} {row['tables_s']:>9.1f} "
            f"{row['keepers_s']:>9.1f} {row['total_s']:>8.1f} {peak / 2**30:>7.2f} G"
            f" {per:>9.0f} {mixed:>10,}",
            flush=True,
        )
        del grown, grown_signatures, result
    return rows


def _neighbours_per_entry(codes: np.ndarray, rng: np.random.Generator) -> float:
    """Mean codes within ``DISTANCE`` of an entry, from 2,000 sampled entries (exact lookups)."""
    from pixdex.index.neighbours import free_neighbours, table_arguments

    tables = neighbour_tables(codes, DISTANCE)
    taken = np.full(codes.shape[0], -1, np.int64)
    out = np.empty(codes.shape[0], np.int64)
    rows = rng.integers(0, codes.shape[0], size=2000)
    owners = np.arange(codes.shape[0])
    found = [free_neighbours(int(r), table_arguments(tables), owners, taken, out) for r in rows]
    return float(np.mean(found))


def _groups_of(pictures: list[str]) -> np.ndarray:
    """Each picture's corpus group as an integer (a genuine second copy shares its source's)."""
    manifest = json.loads((HARD / "manifest.json").read_text())
    group_of = {str((HARD / i["path"]).resolve()): i["group"] for i in manifest["images"]}
    names = [group_of.get(str(Path(p).resolve()), p) for p in pictures]
    index = {name: k for k, name in enumerate(sorted(set(names)))}
    return np.array([index[name] for name in names])


TRADE_OFF = (0.85, 0.9, 0.95, 0.98)
"""Shares of content preserved the duplicate finder's trade-off is also measured at (above the
default's): how much precision a stricter rule buys, and how many planted copies it loses."""


def bench_precision() -> dict:
    """Defaults on the hard corpus: pair precision and planted copies grouped; then the same at
    the stricter ``TRADE_OFF`` shares (the curve, since the default misses its target). First on
    the whole corpus, then on each half alone (its own catalog: the development half, where the
    rule's thresholds were chosen, and the held-out test half)."""
    result = _precision_curve(whole_catalog(), None)
    for half in HALVES:
        result[half] = _precision_curve(half_catalog(half), half)
    return result


HALVES = ("dev", "test")
"""The hard corpus's halves (split by source picture), each grouped alone as well."""


def whole_catalog() -> Path:
    """The catalog of the whole hard corpus (indexed once; later only what changed, and files
    no longer in the corpus are pruned: a rebuilt corpus)."""
    index_exactly(DATABASE, [HARD])
    return DATABASE


def half_catalog(half: str) -> Path:
    """A catalog of the hard corpus's files in ``half`` (indexed once; later only what
    changed, and files no longer in the half are pruned)."""
    manifest = json.loads((HARD / "manifest.json").read_text())
    files = [HARD / i["path"] for i in manifest["images"] if i["split"] == half]
    database = CACHE / f"hard-catalog-{half}.db"
    index_exactly(database, files)
    return database


def index_exactly(database: Path, paths: list[Path]) -> None:
    """Index ``paths`` (files and folders) into the catalog at ``database``, and forget every
    other file it holds: ``prune`` forgets only missing files under what is indexed, and a
    rebuilt corpus (or another draw of edited copies) leaves files it no longer lists."""
    with Catalog(database) as catalog:
        catalog.index(paths, prune=True)
    listed = [str(path.resolve()) for path in paths]
    with open_store(str(database)) as store:
        held = store.states(str(CACHE.resolve()))
        store.remove(p for p in held if not any(p == r or p.startswith(r + "/") for r in listed))


def _precision_curve(database: Path, half: str | None) -> dict:
    """``_precision`` of the catalog at ``database`` (the whole corpus, or ``half`` of it) at
    the default share, then at each of ``TRADE_OFF``, then without the rule (the peer: hash
    distance alone, the duplicate finder's default before issue 13)."""
    result = _precision(DEFAULT_RULE, database, half)
    curve = []
    for share in TRADE_OFF:
        verifier = dataclasses.replace(DEFAULT_RULE.verifier, min_preserved=share)
        point = _precision(dataclasses.replace(DEFAULT_RULE, verifier=verifier), database, half)
        curve.append({"min_preserved": share, **point})
    result["trade_off"] = curve
    result["hash_only"] = _precision(None, database, half)
    return result


def _precision(rule: MatchRule | None, database: Path, half: str | None) -> dict:
    """``Catalog.duplicates`` with ``rule`` on the catalog at ``database`` of the hard corpus
    (or of its ``half``): its pair precision and the share of its planted copies grouped,
    printed and returned. ``None``: hash distance alone, groups chained (the default before
    the rule); its pairs are still (keeper, member)."""
    manifest = json.loads((HARD / "manifest.json").read_text())
    images = [i for i in manifest["images"] if half is None or i["split"] == half]
    group_of = {str((HARD / i["path"]).resolve()): i["group"] for i in images}
    family = {str((HARD / i["path"]).resolve()): i["family"] for i in images}
    started = time.perf_counter()
    with Catalog(database) as catalog:
        groups = catalog.duplicates(rule=rule)
    seconds = time.perf_counter() - started
    pairs = [(g.keeper.path, m.path) for g in groups for m in g.others]
    same = sum(
        group_of[str(Path(a).resolve())] == group_of[str(Path(b).resolve())] for a, b in pairs
    )
    by_group: dict[str, list[str]] = {}
    for path, name in group_of.items():
        by_group.setdefault(name, []).append(path)
    planted = [
        (a, b) for files in by_group.values() for a, b in itertools.combinations(sorted(files), 2)
    ]
    wrong: dict[str, int] = {}
    for a, b in pairs:
        if group_of[str(Path(a).resolve())] != group_of[str(Path(b).resolve())]:
            name = family[str(Path(a).resolve())]
            wrong[name] = wrong.get(name, 0) + 1
    label = {str(Path(m.path).resolve()): k for k, g in enumerate(groups) for m in g.members}
    together = sum(a in label and label.get(b) == label[a] for a, b in planted)
    result = {
        "files": len(group_of),
        "groups": len(groups),
        "pairs": len(pairs),
        "precision": same / max(1, len(pairs)),
        "planted": len(planted),
        "planted_grouped": together / max(1, len(planted)),
        "largest": max((len(g.members) for g in groups), default=0),
        "seconds": seconds,
        "wrong_pairs_by_family": dict(sorted(wrong.items(), key=lambda item: -item[1])),
    }
    setting = (
        f"preserved ≥ {rule.verifier.min_preserved}"
        if rule
        else "hash distance alone (the default distance, chained)"
    )
    print(
        f"\nhard corpus, {half or 'whole'} ({result['files']} files), `pixdex dupes`, {setting}:"
        f" {len(groups)} groups,"
        f" largest {result['largest']}; pair precision {result['precision']:.4f}"
        f" ({same}/{len(pairs)}); planted copies grouped {result['planted_grouped']:.3f}"
        f" ({together}/{len(planted)}); {seconds:.1f} s"
        f"\n  pairs of different pictures by the keeper's family: {result['wrong_pairs_by_family']}"
    )
    return result


def bench_command(codes: np.ndarray, signatures: np.ndarray, pictures: list[str]) -> dict:
    """The command itself: ``pixdex dupes -d 8 --json`` on a real SQLite catalog of the largest
    dense size, in a process of its own. Its wall time and peak RSS (that process's alone:
    ``_PEAK_OF_CHILD``) are the issue's target as a user meets it: reading the store, ranking,
    grouping and writing the groups included, which ``bench_density`` leaves out."""
    n = max(DENSE_SIZES)
    folder = CACHE / "bench_dupes"
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"dense-{n}.db"
    for stale in folder.glob(f"{database.name}*"):
        stale.unlink()
    grown, grown_signatures, picture = grown_catalog(
        n, codes, signatures, np.random.default_rng(17)
    )
    views = None
    if VIEWS_IN_COMMAND:
        real = real_views(DATABASE, pictures)
        views = grown_views(real, codes, grown, picture, np.random.default_rng(19))
    started = time.perf_counter()
    dense_store(database, grown, grown_signatures, np.random.default_rng(18), views)
    written = time.perf_counter() - started
    del grown, grown_signatures
    command = [str(Path(sys.executable).parent / "pixdex"), "dupes", "--db", str(database)]
    command += ["-d", str(DISTANCE)]
    started = time.perf_counter()
    measured = subprocess.run(
        [sys.executable, "-c", _PEAK_OF_CHILD, *command, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    output, exit_code, peak = _measured(measured)
    for stale in folder.glob(f"{database.name}*"):
        stale.unlink()
    truth = _groups_of(pictures)[picture]
    groups = [json.loads(line) for line in output.splitlines()]

    def entry(path: str) -> int:
        return int(Path(path).stem.removeprefix("img"))  # ``_paths``' names

    members = [(g["keeper"], m["path"]) for g in groups for m in g["members"][1:]]
    mixed = sum(truth[entry(a)] != truth[entry(b)] for a, b in members)
    result = {
        "entries": n,
        "exit_code": exit_code,
        "groups": len(groups),
        "members": len(members),
        "members_of_another_picture": int(mixed),
        "seconds": seconds,
        "peak_rss": peak,
        "catalog_written_s": written,
    }
    print(
        f"\n`{' '.join(['pixdex', *command[1:]])} --json` on a {n:,}-entry dense SQLite catalog"
        f" (written in {written:.0f} s): exit {exit_code}, {len(groups):,} groups,"
        f" {len(members):,} members ({mixed:,} of another picture); {seconds:.1f} s,"
        f" peak RSS {result['peak_rss'] / 2**30:.2f} GiB (the command's process)",
        flush=True,
    )
    return result


_PEAK_OF_CHILD = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, file=sys.stderr)
"""
"""Runs a command and prints its exit code and peak RSS (KiB) on the last line of stderr. Run
from the benchmark's own process, the command's ``ru_maxrss`` would start from the benchmark's:
Linux keeps the high-water mark of the memory a process had before ``exec``, and a spawned child
had the benchmark's (gigabytes of grown catalog) until then. This small process's is tens of
megabytes."""


def _measured(run: subprocess.CompletedProcess) -> tuple[str, int, int]:
    """The command's output, exit code and peak RSS in bytes, from a ``_PEAK_OF_CHILD`` run."""
    code, peak_kib = run.stderr.strip().splitlines()[-1].split()
    return run.stdout, int(code), int(peak_kib) * 1024


def dense_store(
    database: Path,
    codes: np.ndarray,
    signatures: np.ndarray,
    rng: np.random.Generator,
    views: np.ndarray | None = None,
) -> None:
    """A SQLite catalog of the grown entries as indexing would have stored them: entry ``i`` is
    ``_paths(n)[i]``, with a size, a modification time and a picture size drawn at random (the
    keep policy's inputs), a unique digest, its dHash, its candidate views' (``views``, columns
    as ``dense_catalog.VIEWS``, when given) and its signature."""
    n = codes.shape[0]
    sides = rng.integers(200, 2000, size=(n, 2))
    sizes = rng.integers(10_000, 5_000_000, size=n)
    paths = _paths(n)
    with SQLiteStore(database) as store:
        for start in range(0, n, 20_000):
            store.write(
                [
                    FileRecord(
                        path=paths[i],
                        size=int(sizes[i]),
                        mtime_ns=1_700_000_000_000_000_000 + i,
                        digest=f"{i:032x}",
                        width=int(sides[i, 0]),
                        height=int(sides[i, 1]),
                        format="JPEG",
                        hashes=_hashes(codes, views, i),
                        signature=signatures[i].tobytes(),
                    )
                    for i in range(start, min(n, start + 20_000))
                ]
            )


def _paths(n: int) -> list[str]:
    """The grown entries' paths, 1,000 to a folder; the entry's row is in the file name."""
    return [f"/photos/{i // 1000:04d}/img{i:07d}.jpg" for i in range(n)]


def _hashes(codes: np.ndarray, views: np.ndarray | None, i: int) -> dict[str, Hash]:
    """Entry ``i``'s stored hashes: its dHash, and its candidate views' when there are any."""
    hashes = {"dhash": Hash(int(codes[i, 0]), 64, "dhash")}
    for column, view in enumerate(VIEWS if views is not None else ()):
        hashes[view] = Hash(int(views[i, column]), 64, view)
    return hashes


def main() -> dict:
    """Grouping at density and the command on a dense catalog; the figures as a dict (saved by
    ``bench_dupes``). The precision on the hard corpus is ``bench_precision``, a part of its
    own."""
    codes, signatures, pictures = real_pictures(HARD, DATABASE)
    return {
        "density": bench_density(codes, signatures, pictures),
        "command": bench_command(codes, signatures, pictures),
    }
