r"""The sqry query language (graph.md §3), compiled to SQL over the index.

Syntax
------
Terms combine with ``AND`` (or mere juxtaposition), ``OR`` and ``NOT``, grouped with
parentheses; ``NOT`` binds tightest, then ``AND``, then ``OR``. Keywords and
field, relation and stage names are case-insensitive. Values are case-sensitive,
except for ``kind``, ``lang`` and ``visibility``, which are lower-case words and
match in any case.

==========================================  ====================================================
``FIELD:value`` ``FIELD:"a b"`` ``'a b'``     equals, exactly
``FIELD:val*`` (value has ``*``, ``?``, ``[``)  a glob over the whole value, case-sensitive
                                              (``kind``/``lang``/``visibility`` fold case):
                                              ``*`` any run of characters (``/`` included),
                                              ``?`` one character, ``[abc]``/``[a-z]`` one of
                                              a class, ``[!abc]`` or ``[^abc]`` one not in it
                                              (a ``]`` first in a class is a member); no
                                              escape: ``[*]`` is a literal ``*``
``FIELD~=word`` ``FIELD~=/re/i`` ``FIELD:/re/``  Python ``re``, *searched* (not anchored); flags
                                              ``i`` ``m`` ``s`` ``x``; ``\/`` is a literal slash
``lines>N`` ``<`` ``>=`` ``<=`` ``lines:N``     whole-number comparison
a bare word ``W``                              ``name~=/W/``
==========================================  ====================================================

Inside quotes, ``\"``/``\'`` and ``\\`` are escapes; any other backslash is kept
(``name~="a\.b"`` is the regex ``a\.b``).

Fields (each selects symbols)
-----------------------------
``kind``        the kind: module function method class interface trait struct enum
                enum_variant type constant variable field macro namespace — ``kind:method``
``name``        the symbol's own name — ``name:authenticate``, ``name:get_*``
``qname``       its qualified name — ``qname:app.auth.authenticate``
``path``        the workspace-relative path of the file defining it (alias ``file``).
                A plain value matches that file *or anything under that directory*
                (``path:src/api``); a glob tests the whole path (``path:*_test.py``)
``lang``        its language (alias ``language``) — ``lang:python``
``visibility``  public, private, protected or internal — ``visibility:private``
``async``       declared async — ``async:true``
``static``      static / class-level — ``static:true``
``parent``      the enclosing symbol's name or qualified name (modules have none) —
                ``parent:User``
``doc``         the first line of its doc comment or docstring — ``doc~=/deprecated/i``
``signature``   its declaration header as written, on one line — ``signature~="-> bool"``
``lines``       ``end_line - start_line + 1`` — ``lines>50``

Relations: "the X of"
---------------------
A relation's value is a name — matching symbols whose name *or* qualified name
equals it (globs and regexes allowed) — or a parenthesised query.

``callers:V``      symbols that call V — ``callers:authenticate``
``callees:V``      symbols that V calls — ``callees:main``
``imports:V``      symbols (usually modules) that import V, or — when V is a module —
                   anything defined in it (``from app.models import User`` imports
                   ``app.models``) — ``imports:app.models``
``imported_by:V``  what V imports — ``imported_by:app.cli``
``inherits:V``     classes that directly inherit from V — ``inherits:Base``
``implements:V``   types that implement V — ``implements:Handler``
``returns:V``      functions declared to return V — ``returns:User``

``callers:(kind:method AND path:src/api)`` selects the callers of any method under
``src/api``. Relations are direct (one edge), not transitive.

Relations follow **resolved** edges only: precision first, a wrong answer is worse
than a missing one. With ``unresolved=True`` (``sqry query --unresolved``) a
relation written with a name (not a nested query) *also* matches edges that were
never resolved, by their target as written in the source: a plain name equals the
whole text or its last segment (``callers:join`` then matches ``os.path.join(p)``),
a glob or regex tests the whole text. ``callees``/``imported_by`` are unaffected:
an unresolved target has no symbol to return.

Stages
------
``| count``           the number of matching symbols (or of groups after a grouping)
``| group_by FIELD``  one row per distinct value with its count, most frequent first
``| top N FIELD``     the N most frequent values
A grouping stage comes first and ``count`` last: ``kind:function | top 5 path | count``.
``group_by parent`` groups on the parent's qualified name.

Limits: 10 KiB of query text, 100 predicates, 64 levels of nesting. Every mistake is
a :class:`QueryError` carrying the 1-based ``position`` and what was ``expected``.

Importing this package is cheap; the engine loads on first use of an attribute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqry.graph.query.errors import QueryError
    from sqry.graph.query.execute import QueryResult, run_query
    from sqry.graph.query.parser import parse
    from sqry.graph.query.printer import format_query
    from sqry.graph.query.search import search_symbols

__all__ = ["QueryError", "QueryResult", "format_query", "parse", "run_query", "search_symbols"]

_HOME = {
    "QueryError": "errors",
    "QueryResult": "execute",
    "run_query": "execute",
    "parse": "parser",
    "format_query": "printer",
    "search_symbols": "search",
}


def __getattr__(name: str) -> Any:
    """Load the public API lazily so ``import sqry.graph.query`` stays cheap."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
