"""TypeScript/TSX extraction, checked against a hand-written fixture project.

``tests/graph/fixtures/typescript``: a model file (interfaces extending
interfaces, a type alias, an enum, generic interfaces, overloads, a
namespace), a service (abstract and generic bases, ``implements``, parameter
properties, access modifiers, async, static, method overloads, ``#private``),
TSX components importing each other, a barrel ``index.ts`` of re-exports and
an ambient ``.d.ts``. Every fact of each file is written out and compared whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lang_kit import (
    assert_well_formed,
    check_resolution,
    extract_fixture,
    indexed_edge_rows,
    mangled,
)
from lang_kit import reference_rows as references
from lang_kit import symbol_rows as symbols

from sqry.graph.languages.base import all_languages, language_for_extension
from sqry.graph.model import FileFacts

FIXTURES = Path(__file__).parent / "fixtures" / "typescript"
TS = all_languages()["typescript"]


def extract(rel: str, source: bytes | None = None) -> FileFacts:
    return extract_fixture("typescript", rel, source)


PUB, PRIV, PROT = "public", "private", "protected"
M, S, C = "src/model", "src/service", "src/components"

EXPECTED_SYMBOLS = {
    "src/model.ts": [
        ("interface", f"{M}.Entity", 2, PUB, False, False, "interface Entity",
         "Anything stored by id."),
        ("field", f"{M}.Entity.id", 3, PUB, False, False, "readonly id: string", ""),
        ("interface", f"{M}.Named", 6, PUB, False, False, "interface Named extends Entity", ""),
        ("field", f"{M}.Named.name", 7, PUB, False, False, "name: string", ""),
        ("method", f"{M}.Named.rename", 8, PUB, False, False, "rename(to: string): void", ""),
        ("interface", f"{M}.User", 11, PUB, False, False, "interface User extends Named, Entity",
         ""),
        ("field", f"{M}.User.email", 12, PUB, False, False, "email?: string", ""),
        ("type", f"{M}.UserId", 15, PUB, False, False, "type UserId", ""),
        ("enum", f"{M}.Role", 17, PUB, False, False, "enum Role", ""),
        ("enum_variant", f"{M}.Role.Admin", 18, PUB, False, False, 'Admin = "admin"', ""),
        ("enum_variant", f"{M}.Role.Guest", 19, PUB, False, False, "Guest", ""),
        ("interface", f"{M}.Store", 22, PUB, False, False, "interface Store<T extends Entity>",
         ""),
        ("method", f"{M}.Store.get", 23, PUB, False, False,
         "get(id: string): Promise<T | undefined>", ""),
        ("function", f"{M}.parse", 26, PUB, False, False, "function parse(input: string): User",
         ""),
        ("function", f"{M}.parse", 27, PUB, False, False, "function parse(input: Buffer): User",
         ""),
        ("function", f"{M}.parse", 28, PUB, False, False,
         "function parse(input: string | Buffer): User", ""),
        ("namespace", f"{M}.Validation", 32, PUB, False, False, "namespace Validation", ""),
        ("constant", f"{M}.Validation.MAX_NAME", 33, PUB, False, False, "const MAX_NAME", ""),
        ("function", f"{M}.Validation.check", 34, PUB, False, False,
         "function check(user: User): boolean", ""),
        ("function", f"{M}.Validation.helper", 37, PRIV, False, False,
         "function helper(user: User): boolean", ""),
    ],
    "src/service.ts": [
        ("class", f"{S}.BaseService", 5, PUB, False, False, "abstract class BaseService<T>", ""),
        ("method", f"{S}.BaseService.constructor", 6, PROT, False, False,
         "protected constructor(protected readonly store: Store<T>)", ""),
        ("field", f"{S}.BaseService.store", 6, PROT, False, False,
         "protected readonly store: Store<T>", ""),
        ("method", f"{S}.BaseService.find", 8, PUB, False, False,
         "abstract find(id: string): Promise<T | undefined>", ""),
        ("method", f"{S}.BaseService.log", 10, PROT, False, False,
         "protected log(message: string): void", ""),
        ("class", f"{S}.UserService", 16, PUB, False, False,
         "class UserService extends BaseService<User> implements Disposable", "Users, cached."),
        ("field", f"{S}.UserService.instances", 17, PRIV, False, True, "private static instances",
         ""),
        ("field", f"{S}.UserService.#cache", 18, PRIV, False, False, "#cache", ""),
        ("method", f"{S}.UserService.constructor", 20, PUB, False, False,
         "constructor(store: Store<User>, private readonly emitter: events.EventEmitter)", ""),
        ("field", f"{S}.UserService.emitter", 20, PRIV, False, False,
         "private readonly emitter: events.EventEmitter", ""),
        ("method", f"{S}.UserService.find", 25, PUB, True, False,
         "async find(id: string): Promise<User | undefined>", ""),
        ("method", f"{S}.UserService.remember", 33, PUB, False, False,
         "remember(user?: User): void", ""),
        ("method", f"{S}.UserService.remember", 34, PUB, False, False,
         "remember(user: User, role: Role): void", ""),
        ("method", f"{S}.UserService.remember", 35, PUB, False, False,
         "remember(user?: User, role = Role.Guest): void", ""),
        ("method", f"{S}.UserService.fromJson", 41, PUB, False, True,
         "static fromJson<U extends User>(raw: string): U", ""),
        ("method", f"{S}.UserService.[Symbol.dispose]", 45, PUB, False, False,
         "[Symbol.dispose](): void", ""),
    ],
    "src/components/Avatar.tsx": [
        ("interface", f"{C}/Avatar.AvatarProps", 3, PUB, False, False, "interface AvatarProps",
         ""),
        ("field", f"{C}/Avatar.AvatarProps.user", 4, PUB, False, False, "user: User", ""),
        ("field", f"{C}/Avatar.AvatarProps.size", 5, PUB, False, False, "size?: number", ""),
        ("function", f"{C}/Avatar.Avatar", 8, PUB, False, False,
         "function Avatar({ user, size = 32 }: AvatarProps): JSX.Element", ""),
        ("function", f"{C}/Avatar.avatarUrl", 12, PRIV, False, False,
         "function avatarUrl(user: User): string", ""),
    ],
    "src/components/UserCard.tsx": [
        ("type", f"{C}/UserCard.Props", 5, PRIV, False, False, "type Props", ""),
        ("function", f"{C}/UserCard.UserCard", 7, PUB, False, False,
         "const UserCard = ({ user, onSelect }: Props) =>", ""),
        ("function", f"{C}/UserCard.pick", 14, PUB, False, False,
         "function pick<T,>(items: T[], index: number): T", ""),
        ("function", f"{C}/UserCard.load", 18, PUB, True, False,
         "async function load(service: UserService, id: string): Promise<JSX.Element | null>",
         ""),
    ],
    "src/components/index.ts": [],
    "src/globals.d.ts": [
        ("namespace", "src/globals.config", 1, PUB, False, False, 'module "config"', ""),
        ("function", "src/globals.config.read", 2, PUB, False, False,
         "function read(key: string): string", ""),
        ("interface", "src/globals.Window", 6, PUB, False, False, "interface Window", ""),
        ("field", "src/globals.Window.services", 7, PUB, False, False, "services: unknown", ""),
        ("function", "src/globals.track", 11, PUB, False, False,
         "function track(event: string): void", ""),
        ("constant", "src/globals.VERSION", 12, PUB, False, False, "const VERSION: string", ""),
    ],
}  # fmt: skip

EXPECTED_REFERENCES = {
    "src/model.ts": [
        ("inherits", f"{M}.Named", "Entity", 6, 31, None, None, False, False),
        ("inherits", f"{M}.User", "Named", 11, 30, None, None, False, False),
        ("inherits", f"{M}.User", "Entity", 11, 37, None, None, False, False),
        ("returns", f"{M}.Store.get", "Promise", 23, 19, None, None, False, False),
        ("returns", f"{M}.parse", "User", 26, 38, None, None, False, False),
        ("returns", f"{M}.parse", "User", 27, 38, None, None, False, False),
        ("returns", f"{M}.parse", "User", 28, 47, None, None, False, False),
        ("calls", f"{M}.parse", "JSON.parse", 29, 9, None, None, False, False),
        ("calls", f"{M}.parse", "input.toString", 29, 20, None, None, False, True),
        ("calls", f"{M}.Validation.check", "helper", 35, 43, None, None, False, False),
    ],
    "src/service.ts": [
        ("imports", S, "./model", 1, 14, "User", "User", False, False),
        ("imports", S, "./model", 1, 20, "Store", "Store", False, False),
        ("imports", S, "./model", 2, 9, "parse", "parse", False, False),
        ("imports", S, "./model", 2, 16, "Role", "Role", False, False),
        ("imports", S, "./model", 2, 22, "Validation", "Validation", False, False),
        ("imports", S, "events", 3, 7, None, "events", False, False),
        ("returns", f"{S}.BaseService.find", "Promise", 8, 29, None, None, False, False),
        ("calls", f"{S}.BaseService.log", "console.log", 11, 4, None, None, False, False),
        ("inherits", f"{S}.UserService", "BaseService", 16, 33, None, None, False, False),
        ("implements", f"{S}.UserService", "Disposable", 16, 62, None, None, False, False),
        ("calls", f"{S}.UserService.#cache", "Map", 18, 11, None, None, False, False),
        ("returns", f"{S}.UserService.find", "Promise", 25, 26, None, None, False, False),
        ("calls", f"{S}.UserService.find", "Map.get", 26, 16, None, None, False, False),
        ("calls", f"{S}.UserService.find", "this.store.get", 28, 23, None, None, False, False),
        ("calls", f"{S}.UserService.find", "remember", 29, 4, None, None, True, False),
        ("calls", f"{S}.UserService.remember", "Validation.check", 36, 16, None, None, False,
         False),
        ("calls", f"{S}.UserService.remember", "events.EventEmitter.emit", 37, 6, None, None, False,
         False),
        ("calls", f"{S}.UserService.fromJson", "parse", 42, 11, None, None, False, False),
        ("calls", f"{S}.UserService.[Symbol.dispose]", "log", 46, 4, None, None, True, False),
    ],
    "src/components/Avatar.tsx": [
        ("imports", f"{C}/Avatar", "../model", 1, 14, "User", "User", False, False),
        ("returns", f"{C}/Avatar.Avatar", "JSX.Element", 8, 58, None, None, False, False),
        ("calls", f"{C}/Avatar.Avatar", "avatarUrl", 9, 19, None, None, False, False),
    ],
    "src/components/UserCard.tsx": [
        ("imports", f"{C}/UserCard", "react", 1, 7, "default", "React", False, False),
        ("imports", f"{C}/UserCard", "./Avatar", 2, 9, "Avatar", "Avatar", False, False),
        ("imports", f"{C}/UserCard", "../service", 3, 9, "UserService", "UserService", False,
         False),
        ("calls", f"{C}/UserCard.UserCard", "onSelect", 8, 39, None, None, False, True),
        ("calls", f"{C}/UserCard.UserCard", "Avatar", 9, 5, None, None, False, False),
        ("calls", f"{C}/UserCard.UserCard", "Layout.Row", 10, 5, None, None, False, False),
        ("returns", f"{C}/UserCard.load", "Promise", 18, 62, None, None, False, False),
        ("calls", f"{C}/UserCard.load", "UserService.find", 19, 21, None, None, False, False),
        ("calls", f"{C}/UserCard.load", "UserCard", 20, 17, None, None, False, False),
    ],
    "src/components/index.ts": [
        # a re-export: the alias is the name the barrel exports
        ("imports", C, "./UserCard", 1, 9, "UserCard", "UserCard", False, False),
        ("imports", C, "./UserCard", 1, 19, "load", "loadCard", False, False),
        ("imports", C, "./Avatar", 2, 14, "*", None, False, False),
    ],
    "src/globals.d.ts": [],
}  # fmt: skip


@pytest.mark.parametrize("rel", sorted(EXPECTED_SYMBOLS))
def test_symbols_match_the_hand_written_list(rel: str) -> None:
    assert symbols(extract(rel)) == sorted(EXPECTED_SYMBOLS[rel])


@pytest.mark.parametrize("rel", sorted(EXPECTED_REFERENCES))
def test_references_match_the_hand_written_list(rel: str) -> None:
    facts = extract(rel)
    assert facts.error is None
    assert references(facts) == sorted(EXPECTED_REFERENCES[rel])


@pytest.mark.parametrize("rel", sorted(EXPECTED_SYMBOLS))
def test_module_symbol_and_parents_are_consistent(rel: str) -> None:
    facts = extract(rel)
    assert facts.module_name == TS.module_name(rel)
    assert_well_formed(facts)


def test_the_module_symbol_is_named_by_its_path() -> None:
    """``Avatar.tsx`` exports ``Avatar``: searching that name must find the function."""
    module = extract("src/components/Avatar.tsx").symbols[0]
    assert (module.kind, module.name, module.qualified_name) == (
        "module", "src/components/Avatar", "src/components/Avatar"
    )  # fmt: skip


def test_tsx_files_get_the_tsx_grammar() -> None:
    """``<T>x`` is a cast in .ts and an element in .tsx: each needs its grammar."""
    cast = b"const n = <number>value;\nexport const el = <div />;\n"
    assert TS.grammar_for("a.tsx") != TS.grammar_for("a.ts") == TS.grammar()
    assert extract("src/cast.ts", cast).error is not None  # JSX is not TypeScript
    assert extract("src/cast.tsx", b"export const el = <Panel />;\n").error is None
    tsx_calls = [r.target for r in extract("src/el.tsx", b"const el = <Panel />;\n").references]
    assert tsx_calls == ["Panel"]


def test_type_variables_give_no_returns_edge() -> None:
    source = b"""class Box<T> {
  get(): T { return this.v; }
  map<U>(f: (t: T) => U): Box<U> { return new Box(); }
}
function first<E>(xs: E[]): E | undefined { return xs[0]; }
function id(x: string): Box<string> { return x; }
"""
    returns = [(r.target, r.line) for r in extract("src/box.ts", source).references
               if r.kind == "returns"]  # fmt: skip
    assert returns == [("Box", 3), ("Box", 6)]


def test_interface_extends_is_inherits_and_class_implements_is_implements() -> None:
    source = b"""interface A {}
interface B extends A, ns.C<number> {}
class D extends mixin(A) implements B, ns.E {}
class F extends ns.G<string> {}
"""
    refs = sorted((r.kind, r.target) for r in extract("src/h.ts", source).references)
    assert refs == [("calls", "mixin"), ("implements", "B"), ("implements", "ns.E"),
                    ("inherits", "A"), ("inherits", "ns.C"), ("inherits", "ns.G")]  # fmt: skip


def test_type_only_reexports_are_reexports() -> None:
    """``export type {T} from``/``export {type U} from`` re-export like their value forms."""
    source = b"""export type { Entity, User as Person } from "./model";
export { type Store, parse } from "./model";
export * as model from "./model";
"""
    assert references(extract("src/api/index.ts", source)) == sorted([
        ("imports", "src/api", "./model", 1, 14, "Entity", "Entity", False, False),
        ("imports", "src/api", "./model", 1, 22, "User", "Person", False, False),
        ("imports", "src/api", "./model", 2, 9, "Store", "Store", False, False),
        ("imports", "src/api", "./model", 2, 21, "parse", "parse", False, False),
        ("imports", "src/api", "./model", 3, 7, None, "model", False, False),
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("src/model.ts", "src/model"),
        ("src/components/index.ts", "src/components"),
        ("src/components/UserCard.tsx", "src/components/UserCard"),
        ("src/globals.d.ts", "src/globals"),
        ("lib/esm.mts", "lib/esm"),
        ("lib/types.d.mts", "lib/types"),
    ],
)
def test_module_name(path: str, module: str) -> None:
    assert TS.module_name(path) == module


def test_every_relative_import_in_the_fixture_maps_to_a_fixture_module() -> None:
    modules = {TS.module_name(p.relative_to(FIXTURES).as_posix())
               for p in FIXTURES.rglob("*") if p.suffix in TS.extensions}  # fmt: skip
    seen = 0
    for rel in EXPECTED_REFERENCES:
        for ref in extract(rel).references:
            if ref.kind == "imports" and ref.target.startswith("."):
                seen += 1
                assert TS.import_module(rel, ref.target) in modules, (rel, ref.target)
    assert seen == 11


def test_registry_claims_the_typescript_extensions() -> None:
    for ext in (".ts", ".tsx", ".mts", ".cts"):
        assert language_for_extension(ext) is TS
    assert TS.members_in_scope is False
    assert "Promise" in TS.builtins


_NOISE = [b"{", b"}", b"<T>", b": ", b"implements ", b"=>", b"<div>", b"as ", b"\xff\xfe"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_sources_never_raise(data: st.DataObject) -> None:
    """Cut and splice fixture files at random: extraction degrades, never fails."""
    rel = data.draw(st.sampled_from(sorted(EXPECTED_SYMBOLS)))
    assert_well_formed(extract(rel, mangled(data, (FIXTURES / rel).read_bytes(), _NOISE)))


# -- resolution through the engine (sqry.graph.index) ---------------------------

EXPECTED_RESOLVED = [
    # a call through a typed parameter (``service: UserService``)
    ("calls", f"{C}/UserCard.load", "UserService.find", 19, f"{S}.UserService.find", "import"),
    ("imports", f"{C}/Avatar", "../model", 1, f"{M}.User", "import"),
    ("imports", f"{C}/UserCard", "./Avatar", 2, f"{C}/Avatar.Avatar", "import"),
    ("imports", f"{C}/UserCard", "../service", 3, f"{S}.UserService", "import"),
    ("imports", C, "./UserCard", 1, f"{C}/UserCard.UserCard", "import"),
    ("imports", C, "./UserCard", 1, f"{C}/UserCard.load", "import"),
    ("imports", C, "./Avatar", 2, f"{C}/Avatar", "import"),
    ("imports", S, "./model", 1, f"{M}.User", "import"),
    ("imports", S, "./model", 1, f"{M}.Store", "import"),
    ("imports", S, "./model", 2, f"{M}.parse", "import"),
    ("imports", S, "./model", 2, f"{M}.Role", "import"),
    ("imports", S, "./model", 2, f"{M}.Validation", "import"),
    ("calls", f"{C}/Avatar.Avatar", "avatarUrl", 9, f"{C}/Avatar.avatarUrl", "local"),
    # rendering <Avatar/> calls the imported component
    ("calls", f"{C}/UserCard.UserCard", "Avatar", 9, f"{C}/Avatar.Avatar", "import"),
    ("calls", f"{C}/UserCard.load", "UserCard", 20, f"{C}/UserCard.UserCard", "local"),
    ("inherits", f"{M}.Named", "Entity", 6, f"{M}.Entity", "local"),
    ("inherits", f"{M}.User", "Named", 11, f"{M}.Named", "local"),
    ("inherits", f"{M}.User", "Entity", 11, f"{M}.Entity", "local"),
    ("returns", f"{M}.parse", "User", 26, f"{M}.User", "local"),
    ("returns", f"{M}.parse", "User", 27, f"{M}.User", "local"),
    ("returns", f"{M}.parse", "User", 28, f"{M}.User", "local"),
    ("calls", f"{M}.Validation.check", "helper", 35, f"{M}.Validation.helper", "local"),
    ("inherits", f"{S}.UserService", "BaseService", 16, f"{S}.BaseService", "local"),
    ("calls", f"{S}.UserService.find", "remember", 29, f"{S}.UserService.remember", "self"),
    # a member of an imported namespace
    ("calls", f"{S}.UserService.remember", "Validation.check", 36, f"{M}.Validation.check",
     "import"),
    ("calls", f"{S}.UserService.fromJson", "parse", 42, f"{M}.parse", "import"),
    # this.log() finds the method in the base class
    ("calls", f"{S}.UserService.[Symbol.dispose]", "log", 46, f"{S}.BaseService.log", "self"),
]  # fmt: skip

RESOLVER_GAPS: dict[tuple, set[str | None]] = {}  # none known


@pytest.mark.timeout(120)
def test_resolved_edges_through_the_index(tmp_path: Path) -> None:
    """Every edge the engine binds, with the rule that bound it; the rest stay
    unresolved (parameters, locals, globals, packages outside the workspace)."""
    edges = indexed_edge_rows("typescript", tmp_path)
    assert len(edges) == sum(len(refs) for refs in EXPECTED_REFERENCES.values())
    check_resolution(edges, EXPECTED_RESOLVED, RESOLVER_GAPS)


def test_only_export_forms_are_flagged_as_reexports() -> None:
    """``export … from`` and ``export {a as b}`` bind nothing in their own file
    (``Reference.reexport``); an ``import`` does."""
    from lang_kit import extract_source

    source = (
        b'import { b } from "./y";\nexport { a } from "./x";\nexport * from "./z";\n'
        b'export * as ns from "./w";\nexport { b as c };\n'
    )
    facts = extract_source("typescript", source, "m.ts")
    flags = {(r.target, r.member, r.alias): r.reexport for r in facts.references}
    assert flags == {
        ("./y", "b", "b"): False,
        ("./x", "a", "a"): True,
        ("./z", "*", None): True,
        ("./w", None, "ns"): True,
        ("./m", "b", "c"): True,
    }
