"""GNU grep as a byte prefilter for log scans: it finds the lines holding a literal, we check them.

A literal search in grep (Boyer-Moore over `memchr`) runs at several GB/s, about ten times
what `bytes.lower()` + `bytes.find()` reach in Python; see docs/logs.md for why and when the
scan in scan.py hands files to it. Nothing here runs a shell: the needle is passed with
`-e`, after every option, so it can never be read as one, and the files are the scan's own
open descriptors (`/dev/fd/N`), so grep reads exactly the files the scan opened.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import sys
import threading
from collections.abc import Generator

log = logging.getLogger(__name__)

# Files per grep process: bounds the descriptors a search holds open at once.
MAX_FILES = 64

_UNKNOWN = object()
_grep: object = _UNKNOWN  # the grep executable once found, or None when there is none to use
_lock = threading.Lock()


class GrepFailed(Exception):
    """grep could not start or stopped with an error; the caller reads the files itself."""


class Cancelled(Exception):
    """The scan was cancelled (the request went away); grep has been stopped."""


def grep_executable() -> str | None:
    """GNU grep's path, found once per process; None when missing or not GNU grep (or not
    Linux: `/dev/fd/N` must reopen the file, and the marker is a memfd)."""
    global _grep
    with _lock:
        if _grep is _UNKNOWN:
            _grep = _find_grep()
        return _grep  # type: ignore[return-value]


def reset() -> None:
    """Forget the grep found (tests; or after PATH changed)."""
    global _grep
    with _lock:
        _grep = _UNKNOWN


def _find_grep() -> str | None:
    if not sys.platform.startswith("linux") or not hasattr(os, "memfd_create"):
        return None
    path = shutil.which("grep")
    if path is None:
        return None
    try:
        out = subprocess.run(
            [path, "--version"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10, env=_env()
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        log.info("Not using grep for log search: %s", err)
        return None
    if not out.startswith(b"grep (GNU grep)"):
        log.info("Not using grep for log search: %s is not GNU grep", path)
        return None
    return path


def _env() -> dict[str, str]:
    # LC_ALL=C: bytes are bytes (no UTF-8 validation) and -i folds ASCII letters only, the same
    # as bytes.lower() in the Python scan.
    return {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def usable_needle(needle: bytes | None) -> bool:
    """grep -F takes a newline as "or" and argv cannot hold NUL: such needles stay in Python."""
    return needle is not None and needle != b"" and not any(c in needle for c in (b"\n", b"\r", b"\0"))


def grep_files(
    fds: list[int], needle: bytes, cancel: threading.Event | None = None
) -> Generator[tuple[int, int, bytes], None, None]:
    """The lines of open files (each read from offset 0 to its current end) that contain
    `needle`, ASCII case-insensitively, in file order: `(index, offset, line)` without the
    `\\n`, and `(index, -1, b"")` once file `index` has been read to its end.

    Raises GrepFailed when grep is missing, cannot start or fails (lines already yielded are
    right, files not reported complete are not), Cancelled when `cancel` is set. Closing the
    generator early stops grep.
    """
    grep = grep_executable()
    if grep is None or not usable_needle(needle):
        raise GrepFailed("grep is not available for this search")
    # A file that holds only the needle goes after every file: its line tells that grep has
    # finished the file before it, so a scan can stop without waiting for grep's next hit.
    marker = os.memfd_create("convos-grep-marker", os.MFD_CLOEXEC)
    proc: subprocess.Popen[bytes] | None = None
    try:
        os.write(marker, needle + b"\n")
        mark = f"/dev/fd/{marker}"
        names = {f"/dev/fd/{fd}".encode(): i for i, fd in enumerate(fds)}
        args = [
            grep,
            "-F",
            "-i",
            "-a",
            "-b",
            "-H",
            "--null",
            "--line-buffered",
            "-e",
            needle.decode("ascii"),
            "--",
        ]
        for fd in fds:
            args += [f"/dev/fd/{fd}", mark]
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                pass_fds=(*fds, marker),
                env=_env(),
            )
        except (OSError, ValueError) as err:
            raise GrepFailed(f"cannot start grep: {err}") from err
        assert proc.stdout is not None
        out = proc.stdout.fileno()
        poll = select.poll()
        poll.register(out, select.POLLIN | select.POLLHUP)
        done, partial = 0, b""
        mark_b = mark.encode()
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if not poll.poll(100):
                continue
            chunk = os.read(out, 1 << 16)
            if not chunk:
                break
            if partial:
                chunk = partial + chunk
            records = chunk.split(b"\n")
            partial = records.pop()
            for rec in records:
                z = rec.find(b"\0")
                name = rec[:z]
                if name == mark_b:
                    yield done, -1, b""
                    done += 1
                    continue
                c = rec.find(b":", z)
                i = names.get(name)
                if i is None or c < 0 or i != done:
                    raise GrepFailed(f"unexpected grep output {rec[:80]!r}")
                yield i, int(rec[z + 1 : c]), rec[c + 1 :]
        rc = proc.wait()
        if rc not in (0, 1) or done != len(fds) or partial:
            raise GrepFailed(f"grep exited with {rc} after {done} of {len(fds)} files")
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
        os.close(marker)
