"""The Python module against a hand-written fixture project (``fixtures/python``).

Every expected symbol and edge below was written by reading the fixture sources,
not by recording the indexer's output; the comparisons are exact (set equality),
so a missing or an extra symbol or edge fails.

The fixture uses a ``src/`` layout (``src/shop/models.py`` is module
``shop.models``), relative imports, aliases, a ``*`` import, a re-exporting
``__init__``, classes with local and imported bases, ``self``/``cls`` calls,
``super()``, a nested function, functions bound to lambdas, ``async def``,
decorators and an extension-less script found by its shebang.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sqry.graph.index import build_index
from sqry.graph.languages.python import import_module, module_name
from sqry.graph.store import open_index

FIXTURE = Path(__file__).parent / "fixtures" / "python"

INIT, MODELS, UTIL = "src/shop/__init__.py", "src/shop/models.py", "src/shop/util.py"
SERVICE, RUN = "src/shop/service.py", "scripts/run"

EXPECTED_SYMBOLS = {
    (INIT, "module", "shop", 1),
    (INIT, "constant", "shop.VERSION", 5),
    (MODELS, "module", "shop.models", 1),
    (MODELS, "class", "shop.models.Base", 7),
    (MODELS, "method", "shop.models.Base.save", 12),
    (MODELS, "method", "shop.models.Base._validate", 16),
    (MODELS, "method", "shop.models.Base.key", 19),
    (MODELS, "class", "shop.models.Item", 24),
    (MODELS, "field", "shop.models.Item.name", 25),
    (MODELS, "field", "shop.models.Item.price", 26),
    (MODELS, "method", "shop.models.Item.key", 28),
    (MODELS, "method", "shop.models.Item.parse", 32),
    (MODELS, "method", "shop.models.Item.empty", 36),
    (UTIL, "module", "shop.util", 1),
    (UTIL, "constant", "shop.util._PATTERN", 4),
    (UTIL, "constant", "shop.util.MAX_LEN", 5),
    (UTIL, "function", "shop.util.slugify", 8),
    (UTIL, "function", "shop.util.slugify.clean", 11),
    (UTIL, "function", "shop.util.__private_helper", 17),
    (UTIL, "function", "shop.util.squash", 21),
    (UTIL, "function", "shop.util.shorten", 24),
    (UTIL, "function", "shop.util.shorten.trim", 25),
    (SERVICE, "module", "shop.service", 1),
    (SERVICE, "class", "shop.service.Cart", 6),
    (SERVICE, "method", "shop.service.Cart.__init__", 7),
    (SERVICE, "method", "shop.service.Cart.add", 10),
    (SERVICE, "function", "shop.service.checkout", 16),
    (SERVICE, "function", "shop.service.compute", 24),
    (RUN, "module", "scripts.run", 1),
    (RUN, "function", "scripts.run.main", 5),
}

# (kind, source, target as written, bound target or None, rule or None)
EXPECTED_EDGES = {
    # shop/__init__.py re-exports
    ("imports", "shop", ".models", "shop.models.Item", "import"),
    ("imports", "shop", ".util", "shop.util.slugify", "import"),
    # shop/models.py
    ("imports", "shop.models", "dataclasses", None, None),
    ("imports", "shop.models", ".util", "shop.util.slugify", "import"),
    ("calls", "shop.models.Base.save", "_validate", "shop.models.Base._validate", "self"),
    ("calls", "shop.models.Base.save", "key", "shop.models.Base.key", "self"),
    ("calls", "shop.models.Base.key", "slugify", "shop.util.slugify", "import"),
    ("inherits", "shop.models.Item", "Base", "shop.models.Base", "local"),
    ("calls", "shop.models.Item.key", "super().key", "shop.models.Base.key", "self"),
    ("calls", "shop.models.Item.key", "super", None, None),
    ("calls", "shop.models.Item.parse", "Item", "shop.models.Item", "local"),
    ("calls", "shop.models.Item.empty", "parse", "shop.models.Item.parse", "self"),
    # shop/util.py
    ("imports", "shop.util", "os.path", None, None),
    ("imports", "shop.util", "re", None, None),
    ("calls", "shop.util", "regex.compile", None, None),
    ("calls", "shop.util.slugify.clean", "part.strip", None, None),
    ("calls", "shop.util.slugify", "_PATTERN.sub", None, None),
    ("calls", "shop.util.slugify", "clean", "shop.util.slugify.clean", "local"),
    ("calls", "shop.util.slugify", "clean(text).lower", None, None),
    ("returns", "shop.util.slugify", "str", None, None),
    ("calls", "shop.util.__private_helper", "os.path.join", None, None),
    ("calls", "shop.util.squash", "_PATTERN.sub", None, None),
    ("calls", "shop.util.shorten", "trim", "shop.util.shorten.trim", "local"),
    ("calls", "shop.util.shorten", "squash", "shop.util.squash", "local"),
    # shop/service.py
    ("imports", "shop.service", ".", "shop.models", "import"),
    ("imports", "shop.service", ".models", "shop.models.Base", "import"),
    ("imports", "shop.service", ".models", "shop.models.Item", "import"),
    ("imports", "shop.service", ".util", "shop.util", "import"),
    ("inherits", "shop.service.Cart", "ModelBase", "shop.models.Base", "import"),
    ("calls", "shop.service.Cart.add", "self.items.append", None, None),
    ("calls", "shop.service.Cart.add", "save", "shop.models.Base.save", "self"),
    ("returns", "shop.service.Cart.add", "Cart", "shop.service.Cart", "local"),
    ("returns", "shop.service.checkout", "models.Item", "shop.models.Item", "import"),
    ("calls", "shop.service.checkout", "item.save", None, None),
    ("calls", "shop.service.checkout", "compute", "shop.service.compute", "local"),
    ("calls", "shop.service.checkout", "slugify", "shop.util.slugify", "import"),
    ("calls", "shop.service.checkout", "models.Item.parse", "shop.models.Item.parse", "import"),
    ("calls", "shop.service.compute", "handler", None, None),
    ("calls", "shop.service.compute", "len", None, None),
    # scripts/run
    ("imports", "scripts.run", "shop.service", "shop.service.Cart", "import"),
    ("imports", "scripts.run", "shop.service", "shop.service.checkout", "import"),
    ("calls", "scripts.run.main", "Cart", "shop.service.Cart", "import"),
    ("calls", "scripts.run.main", "checkout", "shop.service.checkout", "import"),
    ("calls", "scripts.run", "main", "scripts.run.main", "local"),
}

VIA_SELF = {
    ("shop.models.Base.save", "_validate"),
    ("shop.models.Base.save", "key"),
    ("shop.models.Item.empty", "parse"),
    ("shop.service.Cart.add", "save"),
}
BOUND_LOCALLY = {
    ("shop.util.slugify.clean", "part.strip"),
    ("shop.service.Cart.add", "self.items.append"),
    ("shop.service.checkout", "item.save"),
    ("shop.service.compute", "handler"),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("pyfix") / "w"
    shutil.copytree(FIXTURE, root)
    report = build_index(root)
    assert report.file_errors == [] and report.warnings == []
    with open_index(root) as reader:
        yield reader


def _symbols(index) -> list:
    return index.conn.execute(
        "SELECT f.path, s.* FROM symbols s JOIN files f ON f.id = s.file_id"
    ).fetchall()


def _edges(index, where: str = "e.kind != 'contains'") -> list:
    return index.conn.execute(
        "SELECT e.*, s.qualified_name AS source, t.qualified_name AS target FROM edges e "
        "JOIN symbols s ON s.id = e.source_id LEFT JOIN symbols t ON t.id = e.target_id "
        f"WHERE {where}"
    ).fetchall()


def test_symbols_exactly(index) -> None:
    found = {(r["path"], r["kind"], r["qualified_name"], r["start_line"]) for r in _symbols(index)}
    assert found == EXPECTED_SYMBOLS


def test_edges_exactly(index) -> None:
    found = {
        (e["kind"], e["source"], e["target_text"], e["target"], e["resolved_via"])
        for e in _edges(index)
    }
    assert found - EXPECTED_EDGES == set(), "unexpected edges"
    assert EXPECTED_EDGES - found == set(), "missing edges"


def test_self_and_local_flags(index) -> None:
    calls = _edges(index, "e.kind = 'calls'")
    assert {(e["source"], e["target_text"]) for e in calls if e["via_self"]} == VIA_SELF
    assert {(e["source"], e["target_text"]) for e in calls if e["bound_locally"]} == BOUND_LOCALLY


def test_import_members_and_aliases(index) -> None:
    found = {
        (e["source"], e["target_text"], e["member"], e["alias"])
        for e in _edges(index, "e.kind = 'imports'")
    }
    assert found == {
        ("shop", ".models", "Item", "Item"),
        ("shop", ".util", "slugify", "slugify"),
        ("shop.models", "dataclasses", "dataclass", "dataclass"),
        ("shop.models", ".util", "slugify", "slugify"),
        ("shop.util", "os.path", None, None),
        ("shop.util", "re", None, "regex"),
        ("shop.service", ".", "models", "models"),
        ("shop.service", ".models", "Base", "ModelBase"),
        ("shop.service", ".models", "Item", "Item"),
        ("shop.service", ".util", "*", None),
        ("scripts.run", "shop.service", "Cart", "Cart"),
        ("scripts.run", "shop.service", "checkout", "checkout"),
    }


def test_call_positions(index) -> None:
    found = {
        (e["source"], e["target_text"]): (e["line"], e["column"])
        for e in _edges(index, "e.kind = 'calls'")
    }
    assert found[("shop.service.checkout", "compute")] == (19, 4)
    assert found[("shop.models.Base.save", "_validate")] == (13, 8)
    assert found[("scripts.run", "main")] == (10, 0)


def test_contains_mirrors_parents(index) -> None:
    contains = {(e["source"], e["target"]) for e in _edges(index, "e.kind = 'contains'")}
    parents = index.conn.execute(
        "SELECT p.qualified_name, s.qualified_name FROM symbols s "
        "JOIN symbols p ON p.id = s.parent_id"
    ).fetchall()
    assert contains == {tuple(r) for r in parents}
    assert ("shop.util.slugify", "shop.util.slugify.clean") in contains
    assert ("shop.models.Item", "shop.models.Item.price") in contains


def test_symbol_details(index) -> None:
    rows = {r["qualified_name"]: r for r in _symbols(index)}
    slugify = rows["shop.util.slugify"]
    assert slugify["signature"] == "def slugify(text: str) -> str"
    assert slugify["doc"] == "Make a URL slug."
    assert (slugify["end_line"], slugify["start_column"]) == (14, 0)
    assert rows["shop.models.Base"]["doc"] == "Root of the model."
    assert rows["shop"]["doc"] == "Shop package: re-exports the public names."
    assert rows["shop.service.checkout"]["is_async"] == 1
    assert rows["shop.service.checkout"]["signature"] == (
        "async def checkout(cart: Cart) -> models.Item"
    )
    assert rows["shop.models.Item.parse"]["is_static"] == 1
    assert rows["shop.models.Item.empty"]["is_static"] == 1
    assert rows["shop.models.Item.key"]["is_static"] == 0
    assert rows["shop.models.Item"]["signature"] == "class Item(Base)"
    assert rows["shop.models.Item.price"]["signature"] == "price: int = 0"
    visibility = {q: r["visibility"] for q, r in rows.items()}
    assert visibility["shop.util.__private_helper"] == "private"
    assert visibility["shop.models.Base._validate"] == "protected"
    assert visibility["shop.util._PATTERN"] == "internal"
    assert visibility["shop.service.Cart.__init__"] == "public"
    assert rows["scripts.run"]["language"] == "python"


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("pkg/mod.py", "pkg.mod"),
        ("pkg/__init__.py", "pkg"),
        ("src/pkg/mod.py", "pkg.mod"),
        ("src/pkg/__init__.py", "pkg"),
        ("src.py", "src"),
        ("tool", "tool"),
        ("pkg/mod.pyi", "pkg.mod"),
    ],
)
def test_module_names(path: str, module: str) -> None:
    assert module_name(path) == module


@pytest.mark.parametrize(
    ("path", "spec", "module"),
    [
        ("pkg/mod.py", "os.path", "os.path"),
        ("pkg/mod.py", ".", "pkg"),
        ("pkg/mod.py", ".sib", "pkg.sib"),
        ("pkg/sub/mod.py", "..up", "pkg.up"),
        ("pkg/__init__.py", ".mod", "pkg.mod"),
        ("pkg/__init__.py", "..", None),
        ("mod.py", "..x", None),
        ("src/pkg/a.py", ".b", "pkg.b"),
    ],
)
def test_relative_imports(path: str, spec: str, module: str | None) -> None:
    assert import_module(path, spec) == module


@pytest.mark.parametrize(
    ("source", "listed"),
    [
        ("__all__ = ['a', \"b\"]\n", ("a", "b")),
        ("__all__: list[str] = [\n    'x',  # why\n    'y',\n]\n", ("x", "y")),
        ("__all__ = ('a',)\n__all__ += ['c', 'a']\n", ("a", "c")),
        ("__all__ = ['gone']\n__all__ = []\n", ()),
        ("__all__ = ['a']\n__all__.append('b')\n", None),  # changed by a call
        ("__all__ = a.__all__ + b.__all__\n", None),  # computed
        ("if X:\n    __all__ = ['a']\n", None),  # conditional
        ("__all__ = [f'a']\n", None),
        ("__all__ = ['a' 'b']\n", None),  # implicit concatenation
        ('"""Sets __all__."""\n__all__ = [\'a\']\n', None),  # a mention we cannot rule out
        ("x = 1\n", None),
    ],
)
def test_all_is_read_only_when_plain(source: str, listed: tuple[str, ...] | None) -> None:
    """``FileFacts.star_names``: the literal ``__all__``, or None when the file
    might set it in a way not read (then ``*`` takes the public names)."""
    import tree_sitter

    from sqry.graph.languages import python

    data = source.encode()
    tree = tree_sitter.Parser(python.grammar()).parse(data)
    assert python.extract(tree, data, "m.py", "m").star_names == listed


def test_lambda_bound_to_a_name_is_a_function() -> None:
    """``name = lambda``: a function (a method in a class body) whose calls come
    from it and whose parameters are its locals; a name defined before keeps
    its first definition, and a lambda not bound to a plain name is no symbol."""
    from lang_kit import extract_source

    source = (
        b"class C:\n"
        b"    twice = lambda self: self.once() + helper(self)\n"
        b"LIMIT = 3\n"
        b"LIMIT = lambda: 4\n"
        b"table = {}\n"
        b"table['k'] = lambda: make()\n"
        b"def run(cb):\n"
        b"    key: object = lambda item, *rest, n=1: item.name\n"
        b"    return sorted(cb, key=key)\n"
    )
    facts = extract_source("python", source, "m.py")
    symbols = {(s.kind, s.qualified_name, s.start_line, s.signature) for s in facts.symbols}
    assert symbols == {
        ("module", "m", 1, ""),
        ("class", "m.C", 1, "class C"),
        ("method", "m.C.twice", 2, "twice = lambda self: self.once() + helper(self)"),
        ("constant", "m.LIMIT", 3, "LIMIT = 3"),
        ("variable", "m.table", 5, "table = {}"),
        ("function", "m.run", 7, "def run(cb)"),
        ("function", "m.run.key", 8, "key: object = lambda item, *rest, n=1: item.name"),
    }
    names = {s.local_id: s.qualified_name for s in facts.symbols}
    calls = {
        (names[r.source], r.target, r.via_self, r.bound_locally)
        for r in facts.references
        if r.kind == "calls"
    }
    assert calls == {
        ("m.C.twice", "once", True, False),
        ("m.C.twice", "helper", False, False),
        ("m", "make", False, False),
        ("m.run", "sorted", False, False),
    }
