"""The light immutable record that replaces dataclasses on the client path."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from sqry.graph.query.record import Record


class Point(Record):
    __slots__ = ("x", "y", "label")
    _defaults: ClassVar[dict[str, Any]] = {"label": ""}


class Other(Record):
    __slots__ = ("x", "y", "label")


def test_construction_by_position_keyword_and_default():
    assert Point(1, 2) == Point(x=1, y=2, label="")
    assert Point(1, y=2, label="a").label == "a"


def test_value_equality_needs_the_same_type():
    assert Point(1, 2) != Other(1, 2, "")
    assert Point(1, 2) != (1, 2, "")
    assert len({Point(1, 2), Point(1, 2), Point(2, 1)}) == 2


def test_immutable():
    p = Point(1, 2)
    with pytest.raises(AttributeError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1,), {}, "missing field 'y'"),
        ((1, 2, 3, 4), {}, "takes at most 3 values"),
        ((1,), {"x": 2, "y": 3}, "bad or repeated field 'x'"),
        ((), {"z": 1}, "bad or repeated field 'z'"),
    ],
)
def test_bad_construction_is_a_type_error(args, kwargs, message):
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)


def test_repr_names_the_fields():
    assert repr(Point(1, 2)) == "Point(x=1, y=2, label='')"
