"""The JSON Schema of a results file, and of each line of a run's journal.

A file is validated whole before any of it is used, so a damaged or hand-edited one is refused
with one line naming the field (``cells[0].samples[1].wall must be number``), never half read.

Version 3 keeps a sample's records by column; a large run's may be in the compact form
(:mod:`lab.records`: no ``index`` where the jobs are in order, ``start`` and ``end``
as ``{"from": B, "ns": [...]}``), and a sample may say ``records_memory``, the bytes its worker
held for the records. Both are optional: files written without them read as before.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import fastjsonschema

from lab.jobs import RECORD_FIELDS
from lab.records import NANOSECONDS
from lab.results.status import Kind

if TYPE_CHECKING:
    from collections.abc import Callable

_STRING = {"type": "string"}
#: The largest figure a results file holds: any finite number, whole numbers of at most 30
#: digits (nanoseconds since 1970 take 19). The JSON decoder turns a figure past the largest
#: float into an infinity, which these bounds refuse.
LARGEST = sys.float_info.max
LARGEST_WHOLE = 10**30 - 1
PAST_THE_LARGEST = "is past the largest figure a results file holds"

_NUMBER = {"type": "number", "minimum": -LARGEST, "maximum": LARGEST}
_INTEGER = {"type": "integer", "minimum": -LARGEST_WHOLE, "maximum": LARGEST_WHOLE}
_COUNT = {"type": "integer", "minimum": 0, "maximum": LARGEST_WHOLE}
_SECONDS = {"type": "number", "minimum": 0, "maximum": LARGEST}
_POSITIVE = {"type": "integer", "minimum": 1, "maximum": LARGEST_WHOLE}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null: null beside its type, checked at once (a ``oneOf`` would try both,
    raising and catching an error for every value)."""
    return {**schema, "type": ["null", schema["type"]]}


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly these properties, all required but ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_RECORD_TYPES: dict[str, Any] = {
    "index": _COUNT,
    "pid": _INTEGER,
    "process": _STRING,
    "thread": _STRING,
    "thread_id": _INTEGER,
    "start": _NUMBER,
    "end": _NUMBER,
    "cpu": _nullable(_NUMBER),
    "result": {},
    "error": _nullable(_STRING),
    "host": _STRING,
    "clock_offset": _NUMBER,
    "operations": _nullable({"type": "array", "items": _SECONDS}),
}
assert set(_RECORD_TYPES) == set(RECORD_FIELDS)

#: The record fields of the runs this lab reads: records gained a host and a clock offset,
#: then the durations of the operations they timed.
_SAVED_RECORD_FIELDS = (
    RECORD_FIELDS[: RECORD_FIELDS.index("host")],
    RECORD_FIELDS[: RECORD_FIELDS.index("operations")],
    RECORD_FIELDS,
)

_RECORD = {
    "type": "array",
    "items": [_RECORD_TYPES[name] for name in RECORD_FIELDS],
    "minItems": RECORD_FIELDS.index("host"),  # runs saved before records had a host
    "additionalItems": False,
}


def _column(value: dict[str, Any]) -> dict[str, Any]:
    """A column of a run's records: a list of one ``value`` a job, or one ``value`` (not a
    list) every job shares."""
    types = value.get("type")
    if types is None:  # any value: a list is one value a job
        return {"items": value}
    listed = types if isinstance(types, list) else [types]
    return {**value, "type": sorted({"array", *listed}), "items": value}


def _times(value: dict[str, Any]) -> dict[str, Any]:
    """A column of times: as :func:`_column`, or (the compact form) whole nanoseconds after a
    whole number of them, ``{"from": B, "ns": [...]}``. The nanoseconds are checked where they
    are read (:func:`lab.records.seconds`), at once rather than one by one here: a run
    of 1,000,000 jobs has 2,000,000 of them."""
    column = _column(value)
    return {
        **column,
        "type": sorted({"object", *column["type"]}),
        "properties": {"from": _INTEGER, "ns": {"type": "array"}},
        "required": ["from", "ns"],
        "additionalProperties": False,
    }


#: A run's records by column (:mod:`lab.records`): version 3, with the compact form
#: of a large run's (no ``index`` where the jobs are in order; times as nanoseconds).
_COLUMNS = _object(
    {"jobs": _COUNT}
    | {
        name: _times(_RECORD_TYPES[name]) if name in NANOSECONDS else _column(_RECORD_TYPES[name])
        for name in RECORD_FIELDS
    },
    # records.OMITTED, and the index of jobs in order
    optional=("index", "result", "error", "host", "clock_offset", "operations"),
)
#: A worker's answer's records by column: a results file's.
RECORDS = _COLUMNS

_SAMPLE = _object(
    {
        "startup": _SECONDS,
        "wall": _SECONDS,
        "teardown": _SECONDS,
        "cpu": _NUMBER,
        "job_span": _SECONDS,
        "peak_memory": _COUNT,
        "gil_enabled": _nullable({"type": "boolean"}),
        # by column (version 3) or a row a job (version 2)
        "records": {**_COLUMNS, "type": ["array", "object"], "items": _RECORD},
        "cpu_resolution": _NUMBER,
        "outside_tree": {"type": "boolean"},
        "session_cpu": _nullable(_SECONDS),
        "session_peak_memory": _nullable(_COUNT),
        "records_memory": _nullable(_COUNT),
        "others_peak_memory": _nullable(_COUNT),
    },
    optional=(
        "gil_enabled",
        "cpu_resolution",
        "outside_tree",
        "session_cpu",
        "session_peak_memory",
        "records_memory",
        "others_peak_memory",
    ),
)

_STATUS = _object(
    {"kind": {"enum": [kind.value for kind in Kind]}, "detail": _STRING, "traceback": _STRING},
    optional=("traceback",),
)

_CELL = _object(
    {
        "task": _STRING,
        "bound": _STRING,
        "runner": _STRING,
        "kind": _STRING,
        "interpreter": _STRING,
        "workers": _STRING,
        "layout": _object({"processes": _POSITIVE, "threads": _POSITIVE, "tasks": _POSITIVE}),
        "jobs": _POSITIVE,
        "size": _NUMBER,
        "not_applicable": _nullable(_STRING),
        "failure": _nullable(_STATUS),
        "failed_peak_memory": _COUNT,
        "samples": {"type": "array", "items": _SAMPLE},
        "distributed": {"type": "boolean"},
    },
    optional=("interpreter", "failed_peak_memory", "distributed"),
)

_METADATA = _object(
    {
        "date": _STRING,
        "python": _STRING,
        "gil_enabled": {"type": "boolean"},
        "cpus": _POSITIVE,
        "logical_cpus": _POSITIVE,
        "affinity": _nullable({"type": "array", "items": _COUNT}),
        "system": _STRING,
        "load_average": _nullable({"type": "array", "items": _NUMBER}),
        "busy_percent": _NUMBER,
        "sleep_overshoot": _NUMBER,
        "start_method": _STRING,
        "memory_metric": _STRING,
        "memory_resolution": _COUNT,
        "versions": {"type": "object", "additionalProperties": _STRING},
        "cpu_model": _STRING,
        "memory_total": _COUNT,
        "commit": _STRING,
    },
    optional=("versions", "cpu_model", "memory_total", "commit"),
)

_TASK = _object(
    {
        "name": _STRING,
        "description": _STRING,
        "bound": _STRING,
        "size_name": _STRING,
        "size": _NUMBER,
        "size_text": _STRING,
        "how": _STRING,
        "shares_state": {"type": "boolean"},
        "operation": _STRING,
        "session_name": _STRING,
        "releases_gil": {"type": "boolean"},
        "same_answers": {"type": "boolean"},
        "options": {"type": "object", "additionalProperties": _STRING},
    },
    optional=(
        "how",
        "shares_state",
        "operation",
        "session_name",
        "releases_gil",
        "same_answers",
        "options",
    ),
)

_SETTINGS = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["matrix", "sweep"]},
        "jobs": _POSITIVE,
        "levels": {"type": "array", "items": _POSITIVE, "minItems": 1},
        "warmups": _COUNT,
        "repeat": _POSITIVE,
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": LARGEST},
        "start_method": _STRING,
    },
    "required": ["jobs", "warmups", "repeat"],
    "if": {"properties": {"kind": {"const": "sweep"}}, "required": ["kind"]},
    "then": {"required": ["levels"]},
}

#: One cell of a results file.
CELL = _CELL

RESULTS = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "schema": {"const": "concurrency-lab/results"},
        "version": {"type": "integer"},
        "complete": {"type": "boolean"},
        "metadata": _METADATA,
        "settings": _SETTINGS,
        "tasks": {"type": "array", "items": _TASK},
        "record_fields": {"enum": [list(fields) for fields in _SAVED_RECORD_FIELDS]},
        "interpreters": {
            "type": "array",
            "items": {"type": "object", "properties": {"label": _STRING}, "required": ["label"]},
        },
        "warnings": {"type": "array", "items": _STRING},
        "cells": {"type": "array", "items": _CELL},
    },
    "required": ["schema", "version", "complete", "metadata", "settings", "tasks", "cells"],
}

#: One line of a journal after its first: a run of one cell, its sample or its failure.
JOURNAL_ENTRY = _object(
    {
        "cell": _COUNT,
        "failure": _nullable(_STATUS),
        "sample": _SAMPLE,
        "failed_peak_memory": _COUNT,
    },
    optional=("sample", "failed_peak_memory"),
)


class SchemaError(ValueError):
    """A document that does not fit its schema; the message names the field."""


def validate(schema: dict[str, Any], data: Any) -> None:
    """Raise :class:`SchemaError` naming the first field of ``data`` that does not fit."""
    try:
        compiled(schema)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = (exc.name or "data").removeprefix("data").lstrip(".") or "the document"
        if exc.rule in ("minimum", "maximum") and _past_the_largest(exc.value):
            raise SchemaError(f"{where} {PAST_THE_LARGEST}") from None
        raise SchemaError(where + exc.message[len(exc.name or "data") :]) from None


def _past_the_largest(value: Any) -> bool:
    if isinstance(value, float):
        return not -LARGEST <= value <= LARGEST
    return isinstance(value, int) and not -LARGEST_WHOLE <= value <= LARGEST_WHOLE


_VALIDATORS: dict[int, Callable[[Any], Any]] = {}


def compiled(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """A schema's validator, compiled once (a few milliseconds)."""
    if id(schema) not in _VALIDATORS:
        _VALIDATORS[id(schema)] = fastjsonschema.compile(schema)
    return _VALIDATORS[id(schema)]
