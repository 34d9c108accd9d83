"""Strict, typed decoding of JSON-RPC ``params`` into dataclasses (ipc.md §3, §6).

Each method declares its params as a plain dataclass; this module turns the raw JSON
value into an instance or raises ``RpcFailure(-32602, {"reason"})`` naming the field and
what was wrong. Supported field types: ``str``, ``int`` (not bool), ``float`` (int or
float, not bool), ``bool``, ``Literal[...]`` of strings/ints, ``list[T]``,
``dict[str, T]``, ``T | None`` and nested dataclasses (an integer literal too long to
convert arrives as ``protocol.HugeInt`` and fits no numeric field; an ``Any`` field
passes it through to the handler). Fields with defaults are
optional; unknown fields are rejected. Deliberately small: no pydantic dependency, and
decoders are built once per dataclass and cached.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from sqry.daemon.ipc.protocol import HugeInt, RpcFailure

Decoder = Callable[[Any, str], Any]

_JSON_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


class _Invalid(Exception):
    """Internal: carries the reason up to decode_params, which wraps it as -32602."""


def _describe(value: Any) -> str:
    if type(value) is HugeInt:
        return f"an integer of {len(value.digits.lstrip('-'))} digits (too large to use)"
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _where(path: str) -> str:
    return f"field {path!r}" if path else "params"


def _scalar(expected: type) -> Decoder:
    def decode(value: Any, path: str) -> Any:
        if type(value) is expected:
            return value
        if expected is float and type(value) is int:
            return float(value)
        raise _Invalid(
            f"{_where(path)} must be {_JSON_TYPE_NAMES[expected]}, got {_describe(value)}"
        )

    return decode


def _literal(choices: tuple[Any, ...]) -> Decoder:
    def decode(value: Any, path: str) -> Any:
        for choice in choices:
            if type(value) is type(choice) and value == choice:
                return value
        shown = ", ".join(repr(c) if not isinstance(c, str) else f'"{c}"' for c in choices)
        raise _Invalid(f"{_where(path)} must be one of {shown}")

    return decode


def _optional(inner: Decoder) -> Decoder:
    def decode(value: Any, path: str) -> Any:
        return None if value is None else inner(value, path)

    return decode


def _list_of(inner: Decoder) -> Decoder:
    def decode(value: Any, path: str) -> Any:
        if type(value) is not list:
            raise _Invalid(f"{_where(path)} must be an array, got {_describe(value)}")
        return [inner(item, f"{path}[{i}]") for i, item in enumerate(value)]

    return decode


def _dict_of(inner: Decoder) -> Decoder:
    def decode(value: Any, path: str) -> Any:
        if type(value) is not dict:
            raise _Invalid(f"{_where(path)} must be an object, got {_describe(value)}")
        return {k: inner(v, _join(path, k)) for k, v in value.items()}

    return decode


def _decoder_for(tp: Any) -> Decoder:
    """Build the decoder for one annotated type."""
    if tp in (str, int, float, bool):
        return _scalar(tp)
    if tp is Any:
        return lambda value, path: value
    if dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return _literal(args)
    if origin in (typing.Union, types.UnionType):
        non_null = [a for a in args if a is not type(None)]
        if len(non_null) == 1 and len(args) == 2:
            return _optional(_decoder_for(non_null[0]))
    if origin is list and len(args) == 1:
        return _list_of(_decoder_for(args[0]))
    if origin is dict and len(args) == 2 and args[0] is str:
        return _dict_of(_decoder_for(args[1]))
    raise TypeError(f"params field type {tp!r} is not supported by the params decoder")


@cache
def _dataclass_decoder(cls: type) -> Decoder:
    """Decoder for a dataclass: exact field set, each field decoded by its annotation."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    decoders = {f.name: _decoder_for(hints[f.name]) for f in fields}
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]

    def decode(value: Any, path: str) -> Any:
        if type(value) is not dict:
            raise _Invalid(f"{_where(path)} must be an object, got {_describe(value)}")
        for key in value:
            if key not in decoders:
                raise _Invalid(f"unknown field {_join(path, key)!r}")
        for name in required:
            if name not in value:
                raise _Invalid(f"missing field {_join(path, name)!r}")
        return cls(**{k: decoders[k](v, _join(path, k)) for k, v in value.items()})

    return decode


def decode_params(spec: type | None, raw: Any) -> Any:
    """Decode raw params against ``spec`` (a dataclass) or, with None, expect no params.

    "No params" accepts absent, ``null`` or ``{}`` and returns None. A dataclass spec
    accepts an object (or absent/null when every field has a default).
    """
    try:
        if spec is None:
            if raw is None or raw == {}:
                return None
            if type(raw) is dict:
                raise _Invalid(f"unknown field {next(iter(raw))!r}; this method takes no params")
            raise _Invalid(
                f"this method takes no params (absent, null or {{}}), got {_describe(raw)}"
            )
        if raw is None:
            raw = {}
        return _dataclass_decoder(spec)(raw, "")
    except _Invalid as exc:
        raise RpcFailure.invalid_params(str(exc)) from None


def check_params_spec(spec: type | None) -> None:
    """Fail at registration time (not on the first request) if a spec is unsupported."""
    if spec is not None:
        if not dataclasses.is_dataclass(spec):
            raise TypeError(f"params spec must be a dataclass or None, got {spec!r}")
        _dataclass_decoder(spec)


def canonical_directory(value: str, field_name: str) -> Path:
    """Apply the ipc.md §6 path rule to one decoded path param, or raise -32602.

    Clients resolve relative paths against *their* working directory before sending,
    so the daemon (whose cwd means nothing to the client) refuses relative paths
    instead of guessing. The path must exist and be a directory; the result is
    canonical (symlinks resolved), so one workspace never appears under two names.
    """
    if not value:
        raise RpcFailure.invalid_params(f"field {field_name!r} must not be empty")
    if not os.path.isabs(value):
        raise RpcFailure.invalid_params(
            f"field {field_name!r} must be an absolute path (got {value!r}); clients "
            "resolve relative paths against their own working directory"
        )
    resolved = os.path.realpath(value)
    if not os.path.exists(resolved):
        raise RpcFailure.invalid_params(f"field {field_name!r}: {value} does not exist")
    if not os.path.isdir(resolved):
        raise RpcFailure.invalid_params(f"field {field_name!r}: {value} is not a directory")
    return Path(resolved)
