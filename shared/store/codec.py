"""Dataclass <-> Table entity: one property per field, under the field's name.

Enums are stored as their values, datetimes as UTC datetimes, dicts and lists (nested dataclasses
included) as compact JSON text, None as an absent property; a field with ``metadata={"stored":
False}`` is never written. Text longer than ``MAX_TEXT`` characters is cut (``bounded``): a
property holds at most 64 KiB, and a message listing 500 policy names must not turn a valid
request into a 503. Decoding follows the type hints, resolved once per type (not per row).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")

# Characters of one text property: 64 KiB is 32K UTF-16 code units, and a character outside the
# Basic Multilingual Plane takes two of them.
MAX_TEXT = 16_000


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and how much was cut,
    ``limit`` characters in all."""
    if len(text) <= limit:
        return text
    kept = limit - 60  # room for the marker: its number has at most 10 digits
    return text[:kept] + f" ... ({len(text) - kept} more characters not kept)"


def encode(obj: Any, partition: str, row: str) -> dict[str, Any]:
    """The entity of dataclass ``obj`` at (``partition``, ``row``)."""
    entity: dict[str, Any] = {"PartitionKey": partition, "RowKey": row}
    for name in _stored_names(type(obj)):
        value = getattr(obj, name)
        if value is not None:
            entity[name] = _encode_value(value)
    return entity


def decode(cls: type[T], entity: dict[str, Any]) -> T:
    """The ``cls`` an entity holds; properties ``cls`` has no field for are ignored."""
    return typing.cast(T, _decoder(cls)(entity))


_STORED: dict[type, tuple[str, ...]] = {}  # per type: the names of the fields written


def _stored_names(cls: type) -> tuple[str, ...]:
    names = _STORED.get(cls)
    if names is None:
        names = _STORED[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if f.metadata.get("stored", True)
        )
    return names


def _encode_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, dict | list):
        return json.dumps(_jsonable(value), separators=(",", ":"))
    if isinstance(value, str):
        return bounded(value)
    return value


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


Decoder = Callable[[dict[str, Any]], Any]


_DECODERS: dict[type, Decoder] = {}


def _decoder(cls: type) -> Decoder:
    """A function building ``cls`` from a mapping, made once per type."""
    found = _DECODERS.get(cls)
    if found is None:
        found = _DECODERS[cls] = _make_decoder(cls)
    return found


def _make_decoder(cls: type) -> Decoder:
    # The type hints are resolved here, not per row: get_type_hints costs more than decoding a row.
    hints = typing.get_type_hints(cls)
    fields = [
        (
            f.name,
            functools.partial(_decode_value, hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    ]

    def build(data: dict[str, Any]) -> Any:
        return cls(
            **{name: conv(data.get(name)) for name, conv, required in fields if required or name in data}
        )

    return build


def _decode_value(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _decode_value(options[0], value)
    if value is None:
        return None
    if hint is datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decoder(hint)(value)
    if origin in (dict, list):
        data = json.loads(value) if isinstance(value, str) else value
        args = typing.get_args(hint)
        if origin is list:
            return [_decode_value(args[0], v) for v in data]
        return {k: _decode_value(args[1], v) for k, v in data.items()}
    if hint is float and isinstance(value, int):
        return float(value)
    if hint is int and not isinstance(value, int):
        return int(value)
    return value
