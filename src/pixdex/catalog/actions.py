"""Safe actions on duplicate groups: move or delete every non-keeper, journal it, undo the moves.

Nothing is touched unless it is provably the file that was indexed: before acting on a file its
size, modification time and content digest are compared with the catalog's, and a mismatch (or a
missing file) skips it with a reason. A group whose keeper fails that check is skipped whole, so
the last verified copy of a picture is never moved or deleted.

Every action is written to a journal beside the catalog (``<catalog>.journal.jsonl``, where
``<catalog>`` is what ``location.local_files`` names: the SQLite file, or a name in the user's
cache folder for a PostgreSQL catalog; one JSON object per line) before the file is touched,
synced, together with the file's catalog record, and a "done" line follows it; so ``undo`` can
put a moved file back and restore its catalog entry without hashing it again, and a run killed at
any instant leaves every file at its old place or its new one, named in the journal (``undo``
then restores the moved ones). Acted-on files leave the catalog: they are no longer part of the
collection.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pixdex.catalog.duplicates import DuplicateGroup, DuplicateMember
from pixdex.catalog.errors import CatalogError
from pixdex.catalog.store import FileRecord, Store
from pixdex.hashing import Hash
from pixdex.pipeline import file_digest


@dataclass(frozen=True, slots=True)
class ActionReport:
    """What one run did: ``moved`` as ``(from, to)`` paths, ``deleted`` paths, ``skipped`` as
    ``(path, reason)``; ``run`` names the run in the journal."""

    run: str
    moved: tuple[tuple[str, str], ...]
    deleted: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class UndoReport:
    """What ``undo`` did for run ``run``: ``restored`` as ``(from, to)`` moves back, ``failed``
    as ``(path, reason)``, and the deleted files it cannot bring back."""

    run: str | None
    restored: tuple[tuple[str, str], ...]
    failed: tuple[tuple[str, str], ...]
    not_undoable: tuple[str, ...]


def journal_path(catalog: Path) -> Path:
    """The journal of actions taken on ``catalog``'s files, beside it."""
    return catalog.with_name(f"{catalog.name}.journal.jsonl")


def unchanged_since_indexing(member: DuplicateMember) -> str | None:
    """Why ``member``'s file may not be acted on (gone, or size, mtime or digest changed since it
    was indexed), or None when it is the indexed file."""
    try:
        stat = os.stat(member.path)
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror})"
    if stat.st_size != member.size:
        return f"size changed since indexing ({member.size} → {stat.st_size} bytes)"
    if stat.st_mtime_ns != member.mtime_ns:
        return "modified since indexing (mtime changed)"
    try:
        if file_digest(member.path) != member.digest:
            return "content changed since indexing (digest differs)"
    except OSError as error:
        return f"unreadable ({error.strerror})"
    return None


def apply_actions(
    store: Store,
    catalog: Path,
    groups: Sequence[DuplicateGroup],
    *,
    move_to: str | os.PathLike[str] | None = None,
    delete: bool = False,
) -> ActionReport:
    """Move every non-keeper of ``groups`` under ``move_to`` (keeping its path relative to the
    folder all members share), or delete it when ``delete``; journal each action and drop the
    acted-on files from the catalog."""
    if (move_to is None) == (not delete):
        raise CatalogError("choose one action: a folder to move duplicates to, or delete")
    target_root = Path(move_to).absolute() if move_to is not None else None
    run = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
    members = [m.path for g in groups for m in g.members]
    if not members:
        return ActionReport(run, (), (), ())
    # Two distinct files never share a full path, so this is a folder.
    common = Path(os.path.commonpath(members))
    if target_root is not None and target_root.is_relative_to(common):
        raise CatalogError(
            f"{target_root}: the folder to move duplicates to lies inside the collection "
            f"({common}); choose a folder outside it"
        )

    moved: list[tuple[str, str]] = []
    deleted: list[str] = []
    skipped: list[tuple[str, str]] = []
    records = store.records([m.file_id for g in groups for m in g.others])
    done_paths: list[str] = []
    store.write([])  # a read-only catalog refuses before any file is touched
    with _open_journal(catalog) as journal:
        for group in groups:
            if group.implausible:
                skipped.extend(
                    (
                        m.path,
                        f"group of {len(group.members)} files is implausibly large for "
                        "copies of one picture: review it, then act on it yourself",
                    )
                    for m in group.others
                )
                continue
            problem = unchanged_since_indexing(group.keeper)
            if problem is not None:
                skipped.extend(
                    (m.path, f"keeper {group.keeper.path} {problem}: group left alone")
                    for m in group.members
                )
                continue
            for member in group.others:
                problem = unchanged_since_indexing(member)
                if problem is None and member.file_id not in records:
                    problem = "no longer in the catalog"
                if problem is not None:
                    skipped.append((member.path, problem))
                    continue
                destination = None
                if target_root is not None:
                    destination = target_root / Path(member.path).relative_to(common)
                    if destination.exists():
                        skipped.append((member.path, f"{destination} already exists"))
                        continue
                entry: dict[str, Any] = {
                    "run": run,
                    "time": time.time(),
                    "action": "delete" if destination is None else "move",
                    "path": member.path,
                    "keeper": group.keeper.path,
                    "record": record_to_json(records[member.file_id]),
                }
                if destination is not None:
                    entry["target"] = str(destination)
                problem = _act(journal, entry, destination)
                if problem is not None:
                    skipped.append((member.path, problem))
                    continue
                if destination is None:
                    deleted.append(member.path)
                else:
                    moved.append((member.path, str(destination)))
                done_paths.append(member.path)
    store.remove(done_paths)
    return ActionReport(run, tuple(moved), tuple(deleted), tuple(skipped))


def _act(journal: TextIO, entry: dict[str, Any], destination: Path | None) -> str | None:
    """Move (to ``destination``) or delete ``entry["path"]``, journaled ahead: the entry is on
    disk (synced) before the file is touched, and a "done" line follows, so after a crash at any
    instant the journal names every file that may have moved, and ``undo`` finds each one at
    its old place or its new one. Returns why the action failed, or None."""
    path = entry["path"]
    _append(journal, entry)
    try:
        if destination is None:
            os.unlink(path)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            _move(path, destination)
    except OSError as error:
        _append(journal, {"run": entry["run"], "action": "failed", "path": path}, sync=False)
        return f"could not act on it ({error.strerror})"
    _append(journal, {"run": entry["run"], "action": "done", "path": path}, sync=False)
    return None


def _move(source: str | Path, destination: str | Path) -> None:
    """Move a file so that, whenever this process dies, it is whole at one of the two places.

    A rename within one file system is atomic. Across file systems the file is copied under a
    temporary name beside ``destination``, synced, renamed into place, and only then is the
    source removed: a crash leaves at worst an identical copy at both places (``undo`` removes
    the new one) or a stray ``*.pixdex-partial`` file, never a half-written file under the name.
    """
    try:
        os.rename(source, destination)
        return
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    partial = Path(f"{destination}.pixdex-partial")
    shutil.copy2(source, partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, destination)
    os.unlink(source)


def undo_last_run(store: Store, catalog: Path) -> UndoReport:
    """Move the files of the last run not yet undone back where they were, and restore their
    catalog entries. Deleted files cannot come back; they are listed."""
    path = journal_path(catalog)
    entries = _read_journal(path)
    undone = {e["run"] for e in entries if e.get("action") == "undo"}
    runs = [e["run"] for e in entries if e.get("action") in ("move", "delete")]
    pending = [r for r in dict.fromkeys(runs) if r not in undone]
    if not pending:
        return UndoReport(None, (), (), ())
    run = pending[-1]
    store.write([])  # a read-only catalog refuses before any file is touched
    restored: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    records: list[FileRecord] = []
    actions = [e for e in entries if e["run"] == run and e.get("action") in ("move", "delete")]
    for entry in reversed(actions):
        if entry["action"] == "delete":
            continue
        outcome = _move_back(entry["target"], entry["path"], entry["record"])
        if outcome == "restored":
            restored.append((entry["target"], entry["path"]))
            records.append(record_from_json(entry["record"]))
        elif outcome is not None:
            failed.append((entry["path"], outcome))
    store.write(records)
    with _open_journal(catalog) as journal:
        _append(journal, {"run": run, "time": time.time(), "action": "undo"})
    not_undoable = tuple(e["path"] for e in actions if e["action"] == "delete")
    return UndoReport(run, tuple(restored), tuple(failed), not_undoable)


def _move_back(moved: str, original: str, record: dict[str, Any]) -> str | None:
    """Put one journaled file back: "restored", None when it never left (a run stopped before
    moving it, or an undo already done), or why it could not be."""
    at_original, at_target = os.path.lexists(original), os.path.lexists(moved)
    both = at_original and at_target
    if both and _is_recorded_file(moved, record) and _is_recorded_file(original, record):
        os.unlink(moved)  # a move across file systems cut short after its copy
        return None
    if at_original:
        return "a file is back at this path; left both alone" if at_target else None
    if not at_target:
        return f"gone from both {original} and {moved}"
    try:
        Path(original).parent.mkdir(parents=True, exist_ok=True)
        _move(moved, original)
    except OSError as error:
        return f"could not move it back from {moved} ({error.strerror})"
    return "restored"


def _is_recorded_file(path: str, record: dict[str, Any]) -> bool:
    """Whether the file at ``path`` has the recorded size and content digest."""
    try:
        return os.path.getsize(path) == record["size"] and file_digest(path) == record["digest"]
    except OSError:
        return False


def record_to_json(record: FileRecord) -> dict[str, Any]:
    """A catalog record as JSON: enough to write it back unchanged."""
    return {
        "path": record.path,
        "size": record.size,
        "mtime_ns": record.mtime_ns,
        "digest": record.digest,
        "width": record.width,
        "height": record.height,
        "format": record.format,
        "error": record.error,
        "signature": None
        if record.signature is None
        else base64.b64encode(record.signature).decode(),
        "hashes": {
            name: {"hex": h.hex, "bits": h.bits, "quality": h.quality}
            for name, h in record.hashes.items()
        },
    }


def record_from_json(data: dict[str, Any]) -> FileRecord:
    """The inverse of :func:`record_to_json`."""
    hashes = {
        name: Hash(int(h["hex"], 16), h["bits"], name, h["quality"])
        for name, h in data["hashes"].items()
    }
    fields = {k: v for k, v in data.items() if k not in ("hashes", "signature")}
    signature = data.get("signature")  # journals written before pixdex kept it lack it
    return FileRecord(
        **fields,
        hashes=hashes,
        signature=None if signature is None else base64.b64decode(signature),
    )


def _open_journal(catalog: Path) -> TextIO:
    """The journal beside ``catalog``, opened for appending; CatalogError when it cannot be."""
    path = journal_path(catalog)
    try:
        return open(path, "a", encoding="utf-8")
    except OSError as error:
        raise CatalogError(
            f"{path}: cannot write the journal of actions ({error.strerror}); nothing was done"
        ) from None


def _append(journal: TextIO, entry: dict[str, Any], *, sync: bool = True) -> None:
    """One journal line, flushed (it survives this process dying) and, with ``sync``, on disk
    (it survives the machine stopping)."""
    journal.write(json.dumps(entry) + "\n")
    journal.flush()
    if sync:
        os.fsync(journal.fileno())


def _read_journal(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = []
    for number, line in enumerate(lines, 1):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break  # cut short by a crash while writing it: its action was not finished
            raise CatalogError(f"{path}:{number}: unreadable journal line") from None
    return entries
