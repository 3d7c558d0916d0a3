"""A results file as the lab writes it, read a cell at a time.

:meth:`Results.to_json <lab.results.model.Results.to_json>` writes the header, then one cell a
line. :func:`read_lines` reads such a file line by line: each cell is decoded, validated and
made into its :class:`~lab.results.model.Cell` as it is read, so the whole decoded document
(several times the file's size) never exists at once; each cell is checked against the
schema's cell as it is read, in one pass by :mod:`lab.results.typed_cells` where it can be.

It reads only what it can read exactly as the whole document would be read: anything else (a
file laid out otherwise, a line that is not JSON, a cell that does not fit the schema)
makes it return ``None``, and the caller reads the
document whole, which accepts the same files and says what is wrong with the others.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import fastjsonschema

from lab.results.model import Results, ResultsError, cell_from_data
from lab.results.schema import CELL, compiled
from lab.results.typed_cells import decoder

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from lab.results.model import Cell

#: The line that opens the cells' list, after the header's last field.
CELLS = b' "cells": [\n'
#: JSON's whitespace (``bytes.strip`` would take more).
WHITESPACE = b" \t\r\n"


def read_lines(lines: Iterator[bytes], source: str) -> Results | None:
    """The results of a file the lab wrote, from its ``lines`` (bytes, each with its line
    break); ``None`` when the file is not laid out a cell a line or anything in it is not
    as it should be (the caller then reads the document whole)."""
    try:
        return _read(lines, source)
    except (
        ValueError,  # UnicodeDecodeError and JSONDecodeError among them
        TypeError,
        KeyError,
        AttributeError,
        RecursionError,
        ResultsError,
        fastjsonschema.JsonSchemaException,
    ):
        return None


def _read(lines: Iterator[bytes], source: str) -> Results | None:
    header = bytearray()
    for line in lines:
        if line == CELLS:
            break
        header += line
    else:
        return None
    if not header.endswith(b",\n"):
        return None
    # The header closed where the cells begin: JSON only if "cells" is the document's own.
    data = json.loads(header[:-2].decode("utf-8") + "\n}", parse_constant=_no_constant)
    if not isinstance(data, dict):
        return None
    data["cells"] = []
    results = Results.from_data(data, source)
    cells = _cells(lines)
    if cells is None:
        return None
    results.cells = cells
    results.check(source)
    return results


def _cells(lines: Iterator[bytes]) -> list[Cell] | None:
    """The cells, a line each, up to the line that closes their list; ``None`` unless each
    fits the schema and the document ends there."""
    fits = compiled(CELL)
    typed = decoder()
    cells: list[Cell] = []
    more = True
    for line in lines:
        body = line.strip(WHITESPACE)
        if body == b"]":
            break
        if not more:  # the cell before had no comma after it
            return None
        more = body.endswith(b",")
        if more:
            body = body[:-1]
        cell = _typed(typed, body)
        if cell is None:  # a form the typed structures leave to the schema
            data = decode(body)
            fits(data)  # raises where it does not fit
            cell = cell_from_data(data)
        cells.append(cell)
    else:
        return None
    if more or not cells:
        return None
    rest = b"".join(lines).strip(WHITESPACE)
    return cells if rest == b"}" else None


def _typed(typed: Callable[[bytes], Cell] | None, body: bytes) -> Cell | None:
    """The cell of ``body`` as :mod:`lab.results.typed_cells` reads it; ``None`` where it does
    not (or without msgspec)."""
    if typed is None:
        return None
    try:
        return typed(body)
    except ValueError:
        return None


def decode(body: bytes) -> Any:
    """One JSON value, read as the whole document's decoder reads it (``parse_constant``
    refusing NaN and the infinities)."""
    return json.loads(body.decode("utf-8"), parse_constant=_no_constant)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a figure a results file holds")
