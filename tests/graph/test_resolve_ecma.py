"""JavaScript/TypeScript re-exports, resolved through the real engine (``build_index``).

Barrel files (``index.ts`` made of ``export ... from``) sit between most
imports and definitions in real JS/TS code bases. The extractor records a
re-export as an import whose alias is the exported name (``_ecma``'s module
doc), which the resolver's module-member rule follows; these tests index small
projects and check the target and rule of every call and import.

Gaps that need a resolver change are strict expected failures with the reason:
once fixed they pass, and strict makes that a failure until the mark goes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from edits import apply, assert_same_as_fresh

from sqry.graph.index import build_index

Outcome = tuple[str | None, str | None]  # (target qualified name, resolved_via)


def index(root: Path, files: dict[str, str | None]) -> None:
    """Write (``None``: delete) ``files`` under ``root`` and index it, without errors."""
    for rel, text in files.items():
        apply(root, ("write", rel, text) if text is not None else ("delete", rel, ""))
    report = build_index(root, workers=1)
    assert report.file_errors == [], report.file_errors


def _rows(root: Path, kind: str) -> list[tuple]:
    conn = sqlite3.connect(root / ".sqry" / "index.db")
    try:
        return conn.execute(
            "SELECT s.qualified_name, e.target_text, e.line, e.alias, t.qualified_name, "
            "e.resolved_via FROM edges e JOIN symbols s ON s.id = e.source_id "
            "LEFT JOIN symbols t ON t.id = e.target_id WHERE e.kind = ?",
            (kind,),
        ).fetchall()
    finally:
        conn.close()


def calls(root: Path) -> dict[tuple[str, str, int], Outcome]:
    """Every call edge: (source, target text, line) → (target, rule)."""
    found = {
        (s, target, line): (bound, via) for s, target, line, _, bound, via in _rows(root, "calls")
    }
    assert len(found) == len(_rows(root, "calls")), "make the test's call lines distinct"
    return found


def imports(root: Path) -> dict[tuple[str, int, str | None], Outcome]:
    """Every import edge: (file's module, line, alias) → (target, rule)."""
    rows = _rows(root, "imports")
    found = {(s, line, alias): (bound, via) for s, _, line, alias, bound, via in rows}
    assert len(found) == len(rows), "make the test's import lines and aliases distinct"
    return found


IMPL_TS = (
    "export function alpha(): number {\n  return 1;\n}\n"
    "export function beta(): number {\n  return 2;\n}\n"
)
IMPL_JS = "export function alpha() {\n  return 1;\n}\nexport function beta() {\n  return 2;\n}\n"
IMPL = {"ts": IMPL_TS, "tsx": IMPL_TS, "js": IMPL_JS, "jsx": IMPL_JS}


# -- named re-exports ------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ext", ["ts", "js"])
def test_a_consumer_resolves_through_a_barrel_of_named_reexports(ext: str, workspace: Path) -> None:
    index(
        workspace,
        {
            f"lib/impl.{ext}": IMPL[ext],
            f"lib/index.{ext}": 'export { alpha } from "./impl";\n'
            'export { beta as gamma } from "./impl";\n'
            'export * as impl from "./impl";\n',
            f"app.{ext}": 'import { alpha, gamma, impl } from "./lib";\n'
            'import * as lib from "./lib";\n'
            "export function main() {\n"
            "  alpha();\n  gamma();\n  impl.beta();\n"
            "  lib.alpha();\n  lib.gamma();\n  lib.impl.alpha();\n}\n",
        },
    )
    assert imports(workspace) == {
        ("lib", 1, "alpha"): ("lib/impl.alpha", "import"),
        ("lib", 2, "gamma"): ("lib/impl.beta", "import"),
        ("lib", 3, "impl"): ("lib/impl", "import"),
        # what the consumer imports from the barrel is what the barrel re-exports
        ("app", 1, "alpha"): ("lib/impl.alpha", "import"),
        ("app", 1, "gamma"): ("lib/impl.beta", "import"),
        ("app", 1, "impl"): ("lib/impl", "import"),
        ("app", 2, "lib"): ("lib", "import"),
    }
    assert calls(workspace) == {
        ("app.main", "alpha", 4): ("lib/impl.alpha", "import"),
        ("app.main", "gamma", 5): ("lib/impl.beta", "import"),
        ("app.main", "impl.beta", 6): ("lib/impl.beta", "import"),
        ("app.main", "lib.alpha", 7): ("lib/impl.alpha", "import"),
        ("app.main", "lib.gamma", 8): ("lib/impl.beta", "import"),
        ("app.main", "lib.impl.alpha", 9): ("lib/impl.alpha", "import"),
    }


@pytest.mark.timeout(120)
def test_default_exports_reexported_by_name_reach_the_component(workspace: Path) -> None:
    """The React layout: ``Button.tsx`` default-exports, ``index.ts`` names it."""
    index(
        workspace,
        {
            "ui/Button.tsx": "export default function Button() {\n  return <b />;\n}\n",
            "ui/Card.tsx": "export default () => <div />;\n",
            "ui/index.ts": 'export { default as Button } from "./Button";\n'
            'export { default as Card } from "./Card";\n'
            'export { default } from "./Button";\n',
            "page.tsx": 'import Fallback, { Button, Card } from "./ui";\n'
            "export function Page() {\n"
            "  return <Card>\n    <Button />\n    <Fallback />\n  </Card>;\n}\n",
        },
    )
    assert imports(workspace) == {
        # `export default function Button` is recorded as `export {Button as default}`
        ("ui/Button", 1, "default"): ("ui/Button.Button", "import"),
        ("ui", 1, "Button"): ("ui/Button.Button", "import"),
        ("ui", 2, "Card"): ("ui/Card.default", "import"),
        ("ui", 3, "default"): ("ui/Button.Button", "import"),
        ("page", 1, "Fallback"): ("ui/Button.Button", "import"),
        ("page", 1, "Button"): ("ui/Button.Button", "import"),
        ("page", 1, "Card"): ("ui/Card.default", "import"),
    }
    assert calls(workspace) == {
        ("page.Page", "Card", 3): ("ui/Card.default", "import"),
        ("page.Page", "Button", 4): ("ui/Button.Button", "import"),
        ("page.Page", "Fallback", 5): ("ui/Button.Button", "import"),
    }


@pytest.mark.timeout(120)
def test_chained_barrels_rename_along_the_way(workspace: Path) -> None:
    index(
        workspace,
        {
            "core/impl.ts": IMPL_TS,
            "core/mid.ts": 'export { beta as gamma } from "./impl";\n',
            "core/index.ts": 'export { gamma as delta } from "./mid";\n',
            "app.ts": 'import { delta } from "./core";\nexport const run = () => delta();\n',
        },
    )
    assert imports(workspace) == {
        ("core/mid", 1, "gamma"): ("core/impl.beta", "import"),
        ("core", 1, "delta"): ("core/impl.beta", "import"),
        ("app", 1, "delta"): ("core/impl.beta", "import"),
    }
    assert calls(workspace) == {("app.run", "delta", 2): ("core/impl.beta", "import")}


@pytest.mark.timeout(120)
def test_a_reexport_does_not_shadow_a_local_definition(workspace: Path) -> None:
    """``export {a} from './x'`` binds no ``a`` in its file: the file's own ``a()``
    calls its own function (the ``local`` rule comes before ``import``)."""
    index(
        workspace,
        {
            "x.ts": "export function a() {}\n",
            "m.ts": 'export { a } from "./x";\nfunction a() {}\nexport function run() {\n  a();\n}\n',
        },
    )
    assert calls(workspace) == {("m.run", "a", 4): ("m.a", "local")}


# -- export * ----------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ext", ["ts", "jsx"])
def test_a_consumer_resolves_through_an_export_star_barrel(ext: str, workspace: Path) -> None:
    index(
        workspace,
        {
            f"lib/impl.{ext}": IMPL[ext],
            f"lib/index.{ext}": 'export * from "./impl";\n',
            f"app.{ext}": 'import { alpha } from "./lib";\nimport * as lib from "./lib";\n'
            "export function main() {\n  alpha();\n  lib.beta();\n}\n",
        },
    )
    assert imports(workspace) == {
        ("lib", 1, None): ("lib/impl", "import"),
        ("app", 1, "alpha"): ("lib/impl.alpha", "import"),
        ("app", 2, "lib"): ("lib", "import"),
    }
    assert calls(workspace) == {
        ("app.main", "alpha", 4): ("lib/impl.alpha", "import"),
        ("app.main", "lib.beta", 5): ("lib/impl.beta", "import"),
    }


@pytest.mark.timeout(120)
def test_an_explicit_reexport_beats_a_star_one(workspace: Path) -> None:
    """ES: a name the module exports by name shadows the same name from ``export *``."""
    index(
        workspace,
        {
            "a.ts": IMPL_TS,
            "b.ts": IMPL_TS,
            "lib.ts": 'export * from "./a";\nexport { alpha } from "./b";\n',
            "app.ts": 'import { alpha } from "./lib";\nexport const run = () => alpha();\n',
        },
    )
    assert calls(workspace) == {("app.run", "alpha", 2): ("b.alpha", "import")}


@pytest.mark.timeout(120)
def test_export_star_never_reexports_default(workspace: Path) -> None:
    """ES: ``export *`` leaves ``default`` out, so a default import of the barrel
    binds nothing of ``impl`` (the import edge falls back to the module itself)."""
    index(
        workspace,
        {
            "lib/impl.ts": "export default function main() {}\n",
            "lib/index.ts": 'export * from "./impl";\n',
            "app.ts": 'import main from "./lib";\nexport const run = () => main();\n',
        },
    )
    assert imports(workspace)["app", 1, "main"] == ("lib", "import")
    assert calls(workspace) == {("app.run", "main", 2): (None, None)}


@pytest.mark.timeout(120)
def test_names_two_star_reexports_both_provide_are_ambiguous(workspace: Path) -> None:
    """ES: two ``export *`` giving different bindings of a name export neither."""
    index(
        workspace,
        {
            "a.ts": IMPL_TS,
            "b.ts": IMPL_TS,
            "lib.ts": 'export * from "./a";\nexport * from "./b";\n',
            "app.ts": 'import { alpha } from "./lib";\nexport const run = () => alpha();\n',
        },
    )
    assert calls(workspace) == {("app.run", "alpha", 2): (None, None)}


@pytest.mark.timeout(120)
def test_a_cycle_of_star_reexports_ends(workspace: Path) -> None:
    """Barrels that ``export *`` from each other (it happens): a name either side
    defines is found, a name neither defines stays unbound, and the lookup ends."""
    index(
        workspace,
        {
            "a.ts": 'export * from "./b";\nexport * from "./c";\nexport function fa() {}\n',
            "b.ts": 'export * from "./a";\nexport * from "./c";\nexport function fb() {}\n',
            "c.ts": 'export * from "./a";\nexport * from "./b";\n',
            "app.ts": 'import { fa, fb, missing } from "./c";\n'
            "export function run() {\n  fa();\n  fb();\n  missing();\n}\n",
        },
    )
    assert calls(workspace) == {
        ("app.run", "fa", 3): ("a.fa", "import"),
        ("app.run", "fb", 4): ("b.fb", "import"),
        ("app.run", "missing", 5): (None, None),
    }


# -- incremental builds equal fresh ones ----------------------------------


@pytest.mark.timeout(180)
def test_editing_a_chain_of_reexports_rebinds_its_consumers(
    workspace: Path, snapshot, fresh_snapshot
) -> None:
    """Each step changes one file of impl → barrel → consumer; the incremental index
    must bind the consumer's call as stated, and equal a fresh build."""
    steps: list[tuple[dict[str, str | None], Outcome]] = [
        (
            {
                "lib/impl.ts": IMPL_TS,
                "lib/index.ts": 'export { beta as gamma } from "./impl";\n',
                "app.ts": 'import { gamma } from "./lib";\nexport const run = () => gamma();\n',
            },
            ("lib/impl.beta", "import"),
        ),
        ({"lib/index.ts": REEXPORT_ALPHA}, ("lib/impl.alpha", "import")),
        ({"lib/impl.ts": "export function beta() {}\n"}, (None, None)),
        (
            {"lib/index.ts": 'export { beta as gamma } from "./impl";\n'},
            ("lib/impl.beta", "import"),
        ),
        ({"lib/index.ts": None}, (None, None)),
        ({"lib/index.ts": 'export * as gamma from "./impl";\n'}, ("lib/impl", "import")),
        ({"lib/index.ts": REEXPORT_ALPHA}, (None, None)),
    ]
    run_steps(workspace, steps, snapshot, fresh_snapshot)


REEXPORT_ALPHA = 'export { alpha as gamma } from "./impl";\n'


def run_steps(
    root: Path, steps: list[tuple[dict[str, str | None], Outcome]], snapshot, fresh_snapshot
) -> None:
    """Apply each step's file changes, build; ``app.run``'s one call binds as stated
    and the incremental index equals a fresh build."""
    for number, (files, outcome) in enumerate(steps):
        index(root, files)
        assert_same_as_fresh(root, snapshot, fresh_snapshot, f"step {number}: {files}")
        assert [outcome] == list(calls(root).values()), f"step {number}"


@pytest.mark.timeout(120)
def test_a_reexport_added_beside_a_private_namesake_rebinds_its_consumers(
    workspace: Path, snapshot, fresh_snapshot
) -> None:
    """``m`` keeps a private ``a``; its ``export { a } from "./x"`` comes and goes."""
    private = "function a() {}\n"
    steps: list[tuple[dict[str, str | None], Outcome]] = [
        (
            {
                "x.ts": "export function a() {}\n",
                "m.ts": private,
                "app.ts": 'import { a } from "./m";\nexport const run = () => a();\n',
            },
            ("m.a", "import"),  # unexported, yet the best guess there is
        ),
        ({"m.ts": 'export { a } from "./x";\n' + private}, ("x.a", "import")),
        ({"m.ts": private}, ("m.a", "import")),
    ]
    run_steps(workspace, steps, snapshot, fresh_snapshot)


@pytest.mark.timeout(120)
def test_a_definition_appearing_behind_a_renamed_reexport_is_bound(
    workspace: Path, snapshot, fresh_snapshot
) -> None:
    steps: list[tuple[dict[str, str | None], Outcome]] = [
        (
            {
                "lib/impl.ts": "export function beta() {}\n",
                "lib/index.ts": REEXPORT_ALPHA,
                "app.ts": 'import { gamma } from "./lib";\nexport const run = () => gamma();\n',
            },
            (None, None),
        ),
        ({"lib/impl.ts": "export function alpha() {}\n"}, ("lib/impl.alpha", "import")),
    ]
    run_steps(workspace, steps, snapshot, fresh_snapshot)


@pytest.mark.timeout(120)
def test_a_module_appearing_behind_a_namespace_reexport_is_bound(
    workspace: Path, snapshot, fresh_snapshot
) -> None:
    """``import {ns}`` of a barrel's ``export * as ns from './c'``, then ``c`` appears
    (the import edge falls back to the barrel module while ``c`` is missing)."""
    index(
        workspace,
        {
            "lib/index.js": 'export * as ns from "./c";\n',
            "app.js": 'import { ns } from "./lib";\n',
        },
    )
    assert imports(workspace)["app", 1, "ns"] == ("lib", "import")
    index(workspace, {"lib/c.js": "export const c = 1;\n"})
    assert_same_as_fresh(workspace, snapshot, fresh_snapshot, "adding lib/c.js")
    assert imports(workspace)["app", 1, "ns"] == ("lib/c", "import")


@pytest.mark.timeout(180)
def test_editing_a_chain_of_star_reexports_rebinds_its_consumers(
    workspace: Path, snapshot, fresh_snapshot
) -> None:
    """app → lib (``export *``) → mid (``export *``) → impl. Adding or removing the
    inner ``export *`` changes what ``alpha`` means in ``app``, though ``app``
    names neither ``mid`` nor ``impl``: the incremental build must see that too."""
    steps: list[tuple[dict[str, str | None], Outcome]] = [
        (
            {
                "lib/impl.ts": IMPL_TS,
                "lib/mid.ts": 'export * from "./impl";\n',
                "lib/index.ts": 'export * from "./mid";\n',
                "app.ts": 'import { alpha } from "./lib";\nexport const run = () => alpha();\n',
            },
            ("lib/impl.alpha", "import"),
        ),
        ({"lib/mid.ts": "export const other = 1;\n"}, (None, None)),
        ({"lib/mid.ts": 'export * from "./impl";\n'}, ("lib/impl.alpha", "import")),
        ({"lib/mid.ts": None}, (None, None)),
    ]
    run_steps(workspace, steps, snapshot, fresh_snapshot)


# -- gaps in the resolver (strict expected failures) ----------------------


@pytest.mark.timeout(120)
def test_a_reexport_binds_nothing_in_its_own_file(workspace: Path) -> None:
    """``a`` in the barrel is the one it imports; ``fetch`` and ``zeta`` (not
    declared in the file: globals) bind nothing through the barrel's re-exports —
    ``fetch`` is a runtime global, and ``zeta`` gets only what any undeclared
    name gets: the workspace's only definition, by the ``unique`` rule."""
    index(
        workspace,
        {
            "x.ts": "export function a() {}\nexport function fetch() {}\n",
            "y.ts": "export function a() {}\n",
            "z.ts": "export function zeta() {}\n",
            "m.ts": 'import { a } from "./y";\nexport { a, fetch } from "./x";\n'
            'export * from "./z";\n'
            "export function run() {\n  a();\n  fetch();\n  zeta();\n}\n",
        },
    )
    assert calls(workspace) == {
        ("m.run", "a", 5): ("y.a", "import"),
        ("m.run", "fetch", 6): (None, None),
        ("m.run", "zeta", 7): ("z.zeta", "unique"),
    }


@pytest.mark.timeout(120)
def test_a_reexport_wins_over_a_private_namesake(workspace: Path) -> None:
    index(
        workspace,
        {
            "x.ts": "export function a() {}\n",
            "m.ts": 'export { a } from "./x";\nfunction a() {}\n',
            "app.ts": 'import { a } from "./m";\nexport const run = () => a();\n',
        },
    )
    assert calls(workspace) == {("app.run", "a", 2): ("x.a", "import")}


@pytest.mark.timeout(120)
def test_a_cycle_of_named_reexports_binds_neither_private_namesake(workspace: Path) -> None:
    """``a`` re-exports ``x`` from ``b`` and ``b`` from ``a``, each beside a private
    ``x``: the cycle leads nowhere, so no edge — not the namesake found where
    the re-export depth runs out."""
    index(
        workspace,
        {
            "a.ts": 'export { x } from "./b";\nfunction x() {}\n',
            "b.ts": 'export { x } from "./a";\nfunction x() {}\n',
            "app.ts": 'import { x } from "./a";\nexport const run = () => x();\n',
            "app2.ts": 'import { x } from "./b";\nexport const run2 = () => x();\n',
        },
    )
    assert calls(workspace) == {
        ("app.run", "x", 2): (None, None),
        ("app2.run2", "x", 2): (None, None),
    }


@pytest.mark.timeout(60)
def test_a_clique_of_star_barrels_is_searched_once_per_module(workspace: Path) -> None:
    """Twelve barrels that all ``export *`` from each other: each lookup visits a
    module once (without that, the search is exponential and this test times out)."""
    files = {
        f"m{i}.ts": "".join(f'export * from "./m{j}";\n' for j in range(12) if j != i)
        + f"export function f{i}() {{}}\n"
        for i in range(12)
    }
    files["app.ts"] = 'import { f7 } from "./m0";\nexport const run = () => f7();\n'
    index(workspace, files)
    assert calls(workspace)[("app.run", "f7", 2)] == ("m7.f7", "import")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("barrels", "expected"),
    [
        pytest.param(  # b is ambiguous (c's d.x vs e.x); c, reached through b, still gives d.x
            {"a": ["b", "c"], "b": ["c", "e"], "c": ["d"]},
            ("d.x", "import"),
            id="module-reached-again-answers-alike",
        ),
        pytest.param(  # p and b are both ambiguous: a exports no x, whatever the order
            {"a": ["p", "b"], "p": ["c", "f"], "b": ["c", "e"], "c": ["d"]},
            (None, None),
            id="ambiguity-is-not-order-dependent",
        ),
    ],
)
def test_star_lookups_answer_alike_on_every_path(
    barrels: dict[str, list[str]], expected: Outcome, workspace: Path
) -> None:
    files = {
        f"{name}.ts": "".join(f'export * from "./{source}";\n' for source in sources)
        for name, sources in barrels.items()
    }
    for leaf in ("d", "e", "f"):
        files[f"{leaf}.ts"] = "export function x() {}\n"
    files["app.ts"] = 'import { x } from "./a";\nexport const run = () => x();\n'
    index(workspace, files)
    assert calls(workspace)[("app.run", "x", 2)] == expected


def test_calls_through_typed_locals(workspace: Path) -> None:
    """A TypeScript local holds its declared or inferred class (``repo: Repo``,
    ``Repo | null``, ``const r: Repo``, ``let r = new Repo()``): ``repo.save()``
    is ``Repo.save``, also from an arrow function. JavaScript only trusts a
    ``const`` built by ``new`` (a ``let`` can be rebound to anything). Arrays,
    type parameters and untyped parameters stay bound to a local."""
    index(
        workspace,
        {
            "src/repo.ts": (
                "export class Repo {\n  save(s: string): void {}\n"
                "  load(): Repo { return this; }\n}\n"
            ),
            "src/service.ts": (
                'import { Repo } from "./repo";\n'
                "export function run<T>(repo: Repo, maybe: Repo | null, item: T, "
                "arr: Repo[], plain) {\n"
                '  repo.save("x");\n  maybe.save("m");\n  item.save("y");\n'
                "  arr.map(x => x);\n"
                '  plain.save("p");\n  let inferred = new Repo();\n  inferred.save("i");\n'
                "  const typed: Repo = make();\n  typed.load();\n"
                "  const cb = () => repo.load();\n}\n"
            ),
            "src/plain.js": (
                'import { Repo } from "./repo";\nexport function go() {\n'
                '  const a = new Repo();\n  a.save("a");\n  let b = new Repo();\n'
                '  b.save("b");\n}\n'
            ),
        },
    )
    found = calls(workspace)
    save, load = ("src/repo.Repo.save", "import"), ("src/repo.Repo.load", "import")
    assert found[("src/service.run", "Repo.save", 3)] == save
    assert found[("src/service.run", "Repo.save", 4)] == save
    assert found[("src/service.run", "Repo.save", 9)] == save
    assert found[("src/service.run", "Repo.load", 11)] == load
    assert found[("src/service.run.cb", "Repo.load", 12)] == load
    assert found[("src/plain.go", "Repo.save", 4)] == save
    for source, written, line in (
        ("src/service.run", "item.save", 5),
        ("src/service.run", "arr.map", 6),
        ("src/service.run", "plain.save", 7),
        ("src/plain.go", "b.save", 6),
    ):
        assert found[(source, written, line)] == (None, None), written


@pytest.mark.timeout(120)
def test_calls_through_typed_fields(workspace: Path) -> None:
    """``this.repo.save()`` is ``Repo.save`` when the class declares ``repo: Repo``
    (also as a constructor parameter property, or ``#repo = new Repo()``) or, in
    JavaScript without declarations, every assignment of ``this.repo`` in the
    class builds a ``Repo`` (``null`` aside); also from an arrow function. Two
    classes assigned, a field the class only inherits, and ``this`` inside a
    plain ``function`` stay unresolved."""
    index(
        workspace,
        {
            "src/repo.ts": (
                "export class Repo {\n  save(s: string): void {}\n}\n"
                "export class Log {\n  save(s: string): void {}\n}\n"
            ),
            "src/service.ts": (
                'import { Repo, Log } from "./repo";\n'
                "export class Service {\n"
                "  private repo: Repo | null = null;\n"
                "  #log = new Log();\n"
                "  constructor(private readonly backup: Repo) {}\n"
                '  run(): void {\n    this.repo.save("a");\n    this.#log.save("b");\n'
                '    this.backup.save("c");\n    const later = () => this.repo.save("d");\n'
                '    function plain() { this.repo.save("e"); }\n  }\n}\n'
                "export class Sub extends Service {\n"
                '  go(): void {\n    this.repo.save("f");\n  }\n}\n'
            ),
            "src/legacy.js": (
                'import { Repo, Log } from "./repo";\n'
                "export class Legacy {\n"
                "  constructor() {\n    this.repo = new Repo();\n    this.mixed = new Repo();\n  }\n"
                "  reset() {\n    this.repo = null;\n    this.mixed = new Log();\n  }\n"
                '  run() {\n    this.repo.save("g");\n    this.mixed.save("h");\n  }\n}\n'
            ),
        },
    )
    found = calls(workspace)
    save = ("src/repo.Repo.save", "import")
    assert found[("src/service.Service.run", "Repo.save", 7)] == save
    assert found[("src/service.Service.run", "Log.save", 8)] == ("src/repo.Log.save", "import")
    assert found[("src/service.Service.run", "Repo.save", 9)] == save
    assert found[("src/service.Service.run.later", "Repo.save", 10)] == save
    assert found[("src/legacy.Legacy.run", "Repo.save", 12)] == save
    for source, written, line in (
        ("src/service.Service.run.plain", "this.repo.save", 11),
        ("src/service.Sub.go", "this.repo.save", 16),
        ("src/legacy.Legacy.run", "this.mixed.save", 13),
    ):
        assert found[(source, written, line)] == (None, None), written


@pytest.mark.timeout(120)
def test_calls_through_fields_only_of_the_instance_this_is(workspace: Path) -> None:
    """``this.repo`` is the innermost class's own field or nothing: never an outer
    class's, nor a static field (from an instance method), nor an instance field
    from a static method (there ``this`` is the class); a compound assignment
    (``??=``) of something else spoils the agreement."""
    index(
        workspace,
        {
            "src/repo.ts": (
                "export class Repo {\n  save(): void {}\n}\n"
                "export class Other {\n  save(): void {}\n}\n"
            ),
            "src/outer.ts": (
                'import { Repo, Other } from "./repo";\n'
                "export class Outer {\n"
                "  repo: Repo = new Repo();\n"
                "  static shared = new Other();\n"
                "  run(): void {\n"
                "    class Inner {\n      go(): void { this.repo.save(); }\n    }\n"
                "    this.shared.save();\n"
                "    this.repo.save();\n"
                "  }\n"
                "  static make(): void { this.repo.save(); }\n"
                "}\n"
            ),
            "src/lazy.js": (
                'import { Repo, Other } from "./repo";\n'
                "export class Lazy {\n"
                "  constructor() { this.repo = new Repo(); }\n"
                "  reset(o) { this.repo ??= o; }\n"
                "  run() { this.repo.save(); }\n"
                "}\n"
            ),
        },
    )
    found = calls(workspace)
    assert found[("src/outer.Outer.run", "Repo.save", 10)] == ("src/repo.Repo.save", "import")
    for source, written, line in (
        ("src/outer.Outer.run.Inner.go", "this.repo.save", 7),
        ("src/outer.Outer.run", "this.shared.save", 9),
        ("src/outer.Outer.make", "this.repo.save", 12),
        ("src/lazy.Lazy.run", "this.repo.save", 5),
    ):
        assert found[(source, written, line)] == (None, None), written


@pytest.mark.timeout(120)
def test_a_named_import_takes_only_what_the_module_exports_under_that_name(
    workspace: Path,
) -> None:
    """An ES module's unexported function, or one exported only as ``default`` or
    under another name, is not importable by its own name — directly or through
    ``export *``; what it exports under a name is (``export { g }``, ``export
    { g as h }``, ``export default``)."""
    index(
        workspace,
        {
            "a.ts": (
                "function secret() { return 1; }\n"
                "export function pub() { return secret(); }\n"
                "export default function d() {}\n"
                "function g() {}\n"
                "export { g as h };\n"
                "function k() {}\n"
                "export { k };\n"
            ),
            "index.ts": 'export * from "./a";\n',
            "b.ts": (
                'import { secret, d, g, h, k, pub } from "./a";\n'
                'import dflt from "./a";\n'
                'import { secret as s2, pub as p2 } from "./index";\n'
                "export function use() {\n"
                "  secret();\n  d();\n  g();\n  h();\n  k();\n  pub();\n  dflt();\n"
                "  s2();\n  p2();\n}\n"
            ),
        },
    )
    found = {key: value for key, value in calls(workspace).items() if key[0] == "b.use"}
    assert found == {
        ("b.use", "secret", 5): (None, None),
        ("b.use", "d", 6): (None, None),
        ("b.use", "g", 7): (None, None),
        ("b.use", "h", 8): ("a.g", "import"),
        ("b.use", "k", 9): ("a.k", "import"),
        ("b.use", "pub", 10): ("a.pub", "import"),
        ("b.use", "dflt", 11): ("a.d", "import"),
        ("b.use", "s2", 12): (None, None),
        ("b.use", "p2", 13): ("a.pub", "import"),
    }


@pytest.mark.timeout(120)
def test_exporting_a_function_later_binds_its_named_imports(
    workspace: Path, snapshot, fresh_snapshot
) -> None:
    """What a module exports changes with no definition changing: the consumers
    rebind (the incremental index equals a fresh build at every step)."""
    consumer = 'import { f } from "./m";\nexport const run = () => f();\n'
    steps: list[tuple[dict[str, str | None], Outcome]] = [
        ({"m.ts": "function f() {}\nexport const x = 1;\n", "app.ts": consumer}, (None, None)),
        ({"m.ts": "function f() {}\nexport { f };\n"}, ("m.f", "import")),
        ({"m.ts": "function f() {}\nexport { f as g };\n"}, (None, None)),
        ({"m.ts": "export default function f() {}\n"}, (None, None)),
        ({"m.ts": "export function f() {}\n"}, ("m.f", "import")),
    ]
    run_steps(workspace, steps, snapshot, fresh_snapshot)
