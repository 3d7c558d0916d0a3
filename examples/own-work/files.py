"""Hashing files, one job a file: hashlib releases the GIL while it hashes a large buffer, so
threads hash in parallel even with the GIL on.

lab run examples/own-work/files.py:checksum --items examples/own-work/files.py:sample_files
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from pathlib import Path

#: Where the sample files are made, once.
FOLDER = Path(tempfile.gettempdir()) / "concurrency-lab-example-files"
COUNT = 8
SIZE = 16 * 1024 * 1024
CHUNK = 1024 * 1024


def sample_files() -> list[str]:
    """The items: eight files of 16 MiB, made the first time (the same bytes every time, so
    every process that asks gets the same files)."""
    FOLDER.mkdir(exist_ok=True)
    paths = []
    for number in range(COUNT):
        path = FOLDER / f"sample-{number}.bin"
        if not path.exists() or path.stat().st_size != SIZE:
            partial = path.with_suffix(f".{number}.partial")
            partial.write_bytes(random.Random(number).randbytes(SIZE))
            partial.replace(path)
        paths.append(str(path))
    return paths


def checksum(path: str) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
