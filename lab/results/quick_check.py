"""A quick, conservative check of JSON data against a JSON Schema: the common case of a
results file's cells, checked a container at a time.

:func:`checker` turns a schema into a function that says ``True`` only of data that fits the
schema; ``False`` says only that it cannot tell (a keyword it does not know, a value of
another type, a number past a bound), and the full validator
(:func:`lab.results.schema.validate`) then decides and names the field. It knows ``type``,
the numeric bounds, ``enum``, ``properties``, ``required``, ``additionalProperties`` and
``items`` (one schema for every item); a list of scalars (a column of a run's records) is
checked at once, its types as a set and its numbers by their least and greatest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

#: JSON Schema's types as Python's, exactly (``True`` is not a number here).
_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
    "boolean": frozenset({bool}),
    "null": frozenset({type(None)}),
    "array": frozenset({list}),
    "object": frozenset({dict}),
}
_NUMBERS = frozenset({int, float})
_KNOWN = frozenset(
    {"type", "minimum", "maximum", "enum", "properties", "required"}
    | {"additionalProperties", "items", "$schema"}
)


@dataclass(frozen=True, slots=True)
class _Node:
    """One schema, as the check reads it."""

    types: frozenset[type] | None  # None: any type
    low: float | None = None
    high: float | None = None
    enum: tuple[Any, ...] | None = None
    properties: dict[str, _Node] | None = None
    required: frozenset[str] = frozenset()
    #: Properties not listed: True any, False none, else each checked by this schema.
    additional: bool | _Node = True
    items: _Node | None = None
    #: A keyword the check does not know: it cannot tell.
    unknown: bool = False
    #: Only the value's type and bounds are checked.
    leaf: bool = False


def checker(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """Whether data surely fits ``schema`` (``False``: it may not)."""
    node = _node(schema)
    return lambda data: _fits(node, data)


def _node(schema: Any) -> _Node:
    if not isinstance(schema, dict) or not set(schema) <= _KNOWN:
        return _Node(None, unknown=True)
    named = schema.get("type")
    types: frozenset[type] | None = None
    if named is not None:
        listed = named if isinstance(named, list) else [named]
        if not all(name in _TYPES for name in listed):
            return _Node(None, unknown=True)
        types = frozenset().union(*(_TYPES[name] for name in listed))
    items = schema.get("items")
    additional = schema.get("additionalProperties", True)
    properties = schema.get("properties")
    found = _Node(
        types,
        low=schema.get("minimum"),
        high=schema.get("maximum"),
        enum=None if "enum" not in schema else tuple(schema["enum"]),
        properties=None
        if properties is None
        else {name: _node(sub) for name, sub in properties.items()},
        required=frozenset(schema.get("required", ())),
        additional=additional if isinstance(additional, bool) else _node(additional),
        items=None if items is None else _node(items),
        unknown=isinstance(items, list),
    )
    leaf = not ({"enum", "properties", "required", "items"} & set(schema)) and (
        found.additional is True and not found.unknown
    )
    return replace(found, leaf=leaf)


def _within(node: _Node, value: float) -> bool:
    return (node.low is None or value >= node.low) and (node.high is None or value <= node.high)


def _fits(node: _Node, value: Any) -> bool:
    if node.unknown:
        return False
    kind = type(value)
    if node.types is not None and kind not in node.types:
        return False
    if node.enum is not None and not any(
        type(value) is type(option) and value == option for option in node.enum
    ):
        return False
    if kind is int or kind is float:
        return _within(node, value)
    if kind is dict:
        return _object_fits(node, value)
    if kind is list and node.items is not None:
        return _items_fit(node.items, value)
    return True


def _object_fits(node: _Node, value: dict[str, Any]) -> bool:
    if not node.required <= value.keys():
        return False
    properties = node.properties or {}
    for key, item in value.items():
        sub = properties.get(key)
        if sub is None:
            if node.additional is True:
                continue
            if node.additional is False:
                return False
            sub = node.additional
        if sub.leaf:
            kind = type(item)
            if sub.types is not None and kind not in sub.types:
                return False
            if (kind is int or kind is float) and not _within(sub, item):
                return False
        elif not _fits(sub, item):
            return False
    return True


def _items_fit(node: _Node, values: list[Any]) -> bool:
    if not values:
        return True
    if not node.leaf:
        return all(_fits(node, item) for item in values)
    kinds = set(map(type, values))
    if node.types is not None and not kinds <= node.types:
        return False
    if (node.low is None and node.high is None) or not kinds & _NUMBERS:
        return True
    numbers = values if kinds <= _NUMBERS else [v for v in values if type(v) in _NUMBERS]
    return _within(node, min(numbers)) and _within(node, max(numbers))
