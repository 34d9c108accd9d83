"""Typed params decoding: exact field sets, exact JSON types, -32602 reasons (ipc.md §3, §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from sqry.daemon.ipc.params import canonical_directory, decode_params
from sqry.daemon.ipc.protocol import RpcFailure
from sqry.daemon.ipc.registry import MethodRegistry


@dataclass
class Range:
    start: int
    end: int


@dataclass
class Search:
    pattern: str
    search_path: str
    mode: Literal["regex", "exact", "fuzzy"] = "regex"
    limit: int | None = None
    score: float = 0.0
    kinds: list[str] = field(default_factory=list)
    lines: Range | None = None
    extra: dict[str, int] | None = None
    anything: Any = None


def reason(spec: type | None, raw: Any) -> str:
    with pytest.raises(RpcFailure) as info:
        decode_params(spec, raw)
    assert info.value.code == -32602
    assert info.value.message == "Invalid params"
    assert set(info.value.data) == {"reason"}
    return info.value.data["reason"]


def test_full_decode() -> None:
    got = decode_params(
        Search,
        {
            "pattern": "p",
            "search_path": "/x",
            "mode": "fuzzy",
            "limit": 5,
            "score": 2,
            "kinds": ["a"],
            "lines": {"start": 1, "end": 2},
            "extra": {"k": 1},
            "anything": [None, {"a": 1.5}],
        },
    )
    assert got == Search(
        "p", "/x", "fuzzy", 5, 2.0, ["a"], Range(1, 2), {"k": 1}, [None, {"a": 1.5}]
    )
    assert type(got.score) is float


def test_defaults_and_null_optional() -> None:
    assert decode_params(Search, {"pattern": "p", "search_path": "/", "limit": None}) == Search(
        "p", "/"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"search_path": "/"}, "missing field 'pattern'"),
        ({"pattern": "p", "search_path": "/", "bogus": 1}, "unknown field 'bogus'"),
        ({"pattern": 1, "search_path": "/"}, "field 'pattern' must be a string, got an integer"),
        (
            {"pattern": "p", "search_path": "/", "limit": True},
            "field 'limit' must be an integer, got a boolean",
        ),
        (
            {"pattern": "p", "search_path": "/", "limit": 1.0},
            "field 'limit' must be an integer, got a number",
        ),
        (
            {"pattern": "p", "search_path": "/", "score": False},
            "field 'score' must be a number, got a boolean",
        ),
        (
            {"pattern": "p", "search_path": "/", "mode": "glob"},
            'field \'mode\' must be one of "regex", "exact", "fuzzy"',
        ),
        (
            {"pattern": "p", "search_path": "/", "kinds": "a"},
            "field 'kinds' must be an array, got a string",
        ),
        (
            {"pattern": "p", "search_path": "/", "kinds": ["a", 2]},
            "field 'kinds[1]' must be a string, got an integer",
        ),
        ({"pattern": "p", "search_path": "/", "lines": {"start": 1}}, "missing field 'lines.end'"),
        (
            {"pattern": "p", "search_path": "/", "lines": {"start": 1, "end": 2, "z": 0}},
            "unknown field 'lines.z'",
        ),
        (
            {"pattern": "p", "search_path": "/", "extra": {"k": "v"}},
            "field 'extra.k' must be an integer, got a string",
        ),
        ([], "params must be an object, got an array"),
        ("x", "params must be an object, got a string"),
    ],
)
def test_rejections_name_the_field(raw: Any, expected: str) -> None:
    assert reason(Search, raw) == expected


def test_absent_params_for_a_spec_with_required_fields() -> None:
    assert reason(Search, None) == "missing field 'pattern'"


@pytest.mark.parametrize("raw", [None, {}])
def test_no_params_accepts_absent_null_empty(raw: Any) -> None:
    assert decode_params(None, raw) is None


@pytest.mark.parametrize("raw", [[], [1], 0, "", {"a": 1}, False])
def test_no_params_rejects_everything_else(raw: Any) -> None:
    assert reason(None, raw)


def test_registry_rejects_unsupported_specs_at_registration() -> None:
    @dataclass
    class Bad:
        value: set[int]

    async def handler(ctx: Any, params: Any) -> None:
        return None

    registry = MethodRegistry()
    with pytest.raises(TypeError, match="not supported"):
        registry.register("x/bad", handler, Bad)
    with pytest.raises(TypeError, match="dataclass"):
        registry.register("x/notdc", handler, dict)
    registry.register("x/ok", handler)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("x/ok", handler)
    assert "x/ok" in registry and registry.get("x/bad") is None


def test_canonical_directory(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    (tmp_path / "file").write_text("")
    assert canonical_directory(str(link), "index_root") == real.resolve()
    assert canonical_directory(str(real) + "/./", "index_root") == real.resolve()
    cases = {
        "": "field 'index_root' must not be empty",
        "rel/dir": "field 'index_root' must be an absolute path (got 'rel/dir')",
        str(tmp_path / "missing"): f"field 'index_root': {tmp_path / 'missing'} does not exist",
        str(tmp_path / "file"): f"field 'index_root': {tmp_path / 'file'} is not a directory",
    }
    for value, expected in cases.items():
        with pytest.raises(RpcFailure) as info:
            canonical_directory(value, "index_root")
        assert info.value.code == -32602
        assert info.value.data["reason"].startswith(expected)
