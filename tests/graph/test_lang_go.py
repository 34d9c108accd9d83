"""Go extraction, checked against the hand-written expectations of fixtures/go."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lang_kit import (
    FIXTURES,
    check_invariants,
    check_mangled,
    check_truncations,
    docs,
    extract_fixture,
    extract_source,
    reference_lines,
    signatures,
    spec,
    symbol,
    symbol_lines,
)

from sqry.graph.languages.base import using_workspace

GO = spec("go")
ROOT = FIXTURES / "go"


def test_main_file_symbols_and_references():
    facts = extract_fixture("go", "main.go")
    assert facts.language == "go" and facts.module_name == "." and facts.error is None
    assert symbol_lines(facts) == {
        "module . @1 public in -",
        "constant Version @10 public in .",
        "function main @12 private in .",
        "function describe @18 private in .",
    }
    assert reference_lines(facts) == {
        "imports . -> fmt @5 alias=fmt",
        "imports . -> example.com/shop/store @6 alias=st",
        "calls main -> st.New @13",
        "calls main -> s.Add @14 local",
        "calls main -> fmt.Println @15",
        "calls main -> describe @15",
        "calls describe -> st.Store.Name @19",
    }
    assert docs(facts) == {
        ".": "Command shop runs the demo shop.",
        "Version": "Version is the release.",
    }
    sigs = signatures(facts)
    assert sigs["."] == "package main"
    assert sigs["main"] == "func main()"
    assert sigs["describe"] == "func describe(s *st.Store) string"
    assert sigs["Version"] == 'const Version = "1.0"'
    assert facts.symbols[0].name == "main"  # the package clause names the module symbol


def test_package_file_with_types_methods_and_generics():
    facts = extract_fixture("go", "store/store.go")
    assert facts.module_name == "store"
    assert symbol_lines(facts) == {
        "module store @1 public in -",
        "struct store.Item @10 public in store",
        "field store.Item.Name @11 public in store.Item",
        "field store.Item.price @12 private in store.Item",
        "struct store.Store @16 public in store",
        "field store.Store.items @19 private in store.Store",
        "field store.Store.Owner @20 public in store.Store",
        "field store.Store.Owner.ID @21 public in store.Store.Owner",
        "interface store.Repository @26 public in store",
        "method store.Repository.Save @28 public in store.Repository",
        "method store.Repository.Load @29 public in store.Repository",
        "constant store.MaxItems @34 public in store",
        "constant store.minItems @35 private in store",
        "variable store.registry @38 private in store",
        "function store.New @41 public in store",
        "method store.Store.init @48 private in store.Store",
        "method store.Store.Add @54 public in store.Store",
        "struct store.Pair @62 public in store",
        "field store.Pair.Key @63 public in store.Pair",
        "field store.Pair.Val @64 public in store.Pair",
        "function store.First @68 public in store",
    }
    assert reference_lines(facts) == {
        "imports store -> io @5 alias=io",
        "imports store -> sync @6 alias=sync",
        # embedding is inheritance; `error` and type parameters are not types of ours
        "inherits store.Store -> Base @17",
        "inherits store.Store -> sync.Mutex @18",
        "inherits store.Repository -> io.Closer @27",
        "returns store.Repository.Load -> Store @29",
        "returns store.New -> Store @41",
        "calls store.New -> Store.init @43",
        # the receiver `s`: one selector is via_self, a deeper path is a local's
        "calls store.Store.init -> Base.Rename @49",  # s.Base: the embedded Base
        "calls store.Store.Add -> Lock @55 self",
        "calls store.Store.Add -> Unlock @56 self",
        "calls store.Store.Add -> append @57",
        "calls store.Store.Add -> log @58 self",
    }
    assert docs(facts) == {
        "store": "Package store keeps items.",
        "store.Item": "Item is one thing for sale.",
        "store.Store": "Store holds items.",
        "store.Repository": "Repository persists stores.",
        "store.MaxItems": "MaxItems bounds a store.",
        "store.New": "New makes a store.",
        "store.Store.Add": "Add appends an item.",
        "store.Pair": "Pair is generic.",
        "store.First": "First returns the first value.",
    }
    sigs = signatures(facts)
    assert sigs["store.Store"] == "type Store struct"
    assert sigs["store.Repository"] == "type Repository interface"
    assert sigs["store.Pair"] == "type Pair[K comparable, V any] struct"
    assert sigs["store.Store.Add"] == "func (s *Store) Add(it Item)"
    assert sigs["store.Repository.Load"] == "Load(name string) (*Store, error)"
    assert sigs["store.First"] == "func First[T any](xs []T) T"
    assert sigs["store.Item.price"] == "price int"


def test_methods_on_a_type_of_another_file_hang_off_the_package():
    facts = extract_fixture("go", "store/base.go")
    assert symbol_lines(facts) == {
        "module store @1 public in -",
        "struct store.Base @6 public in store",
        "field store.Base.name @7 private in store.Base",
        "method store.Base.Rename @11 public in store.Base",
        "method store.Store.Name @16 public in store",
        "method store.Store.log @20 private in store",
    }
    assert reference_lines(facts) == {
        "imports store -> strings @3 alias=strings",
        "calls store.Base.Rename -> strings.TrimSpace @12",
        "calls store.Store.log -> Rename @21 self",
    }
    assert docs(facts) == {
        "store.Base": "Base is embedded by Store.",
        "store.Base.Rename": "Rename changes the name.",
        "store.Store.Name": "Name reports the store's name.",
    }


def test_positions_are_one_based_lines_and_zero_based_columns():
    facts = extract_fixture("go", "store/store.go")
    add = symbol(facts, "store.Store.Add")
    assert (add.start_line, add.start_column, add.end_line, add.end_column) == (54, 0, 59, 1)
    owner_id = symbol(facts, "store.Store.Owner.ID")
    assert (owner_id.start_line, owner_id.start_column) == (21, 2)
    lock = next(r for r in facts.references if r.target == "Lock")
    assert (lock.line, lock.column) == (55, 1)


def test_module_names_are_package_directories():
    assert GO.module_name("main.go") == "."
    assert GO.module_name("store/store.go") == "store"
    assert GO.module_name("internal/a/b/c.go") == "internal/a/b"


def test_import_paths_map_through_go_mod():
    with using_workspace(str(ROOT)):
        assert GO.import_module("main.go", "example.com/shop/store") == "store"
        assert GO.import_module("store/x.go", "example.com/shop") == "."
        assert GO.import_module("main.go", "example.com/shop/a/b") == "a/b"
        assert GO.import_module("main.go", "fmt") is None
        assert GO.import_module("main.go", "example.com/shopping") is None
        assert GO.import_module("main.go", "github.com/x/y") is None
    assert GO.import_module("main.go", "example.com/shop/store") is None  # no workspace


def test_import_forms():
    source = b"""package p
import (
\t. "example.com/shop/store"
\t_ "embed"
\tj "encoding/json"
\t"github.com/x/yaml/v2"
\t"gopkg.in/check.v1"
)
import "os"
"""
    facts = extract_source("go", source, "p/p.go")
    assert reference_lines(facts) == {
        "imports p -> example.com/shop/store @3 member=*",
        "imports p -> embed @4",
        "imports p -> encoding/json @5 alias=j",
        "imports p -> github.com/x/yaml/v2 @6 alias=yaml",
        "imports p -> gopkg.in/check.v1 @7 alias=check",
        "imports p -> os @9 alias=os",
    }


def test_locals_closures_conversions_and_generic_calls():
    source = b"""package p

func Run(cb func() int, items []string) (n int, err error) {
\tx, y := load()
\tfor _, it := range items {
\t\tit.Run()
\t}
\tcb()
\tswitch v := x.(type) {
\tdefault:
\t\tv.M()
\t}
\tgo func(a int) { a.Close(); helper() }(1)
\tvar z = int64(y)
\tz.Q()
\terr.Error()
\tMap[int](y)
\tparts()[0].Go()
\treturn
}
"""
    facts = extract_source("go", source, "p/p.go")
    assert reference_lines(facts) == {
        "calls p.Run -> load @4",
        "calls p.Run -> it.Run @6 local",
        "calls p.Run -> cb @8 local",
        "calls p.Run -> v.M @11 local",
        "calls p.Run -> a.Close @13 local",
        "calls p.Run -> helper @13",
        "calls p.Run -> z.Q @15 local",
        "calls p.Run -> err.Error @16 local",
        "calls p.Run -> Map @17",
        "calls p.Run -> parts()[0].Go @18",
        "calls p.Run -> parts @18",
    }


def test_import_paths_map_through_the_nearest_go_mod(tmp_path):
    (tmp_path / "svc" / "api").mkdir(parents=True)
    (tmp_path / "svc" / "go.mod").write_text('module "example.org/svc"\n')
    (tmp_path / "go.mod").write_text("module example.org/top\n")
    with using_workspace(str(tmp_path)):
        assert GO.import_module("svc/main.go", "example.org/svc/api") == "svc/api"
        assert GO.import_module("svc/api/a.go", "example.org/svc") == "svc"
        assert GO.import_module("svc/main.go", "example.org/top/x") is None  # not svc's
        assert GO.import_module("tool/t.go", "example.org/top/x") == "x"
        assert GO.import_module("t.go", "example.org/top") == "."


def test_local_declarations_are_not_symbols_but_package_ones_are():
    source = b"""package p

var (
\tA, B = 1, 2
\t_    = 3
)

type T int

func f() {
\tvar local = 1
\ttype inner struct{ X int }
\tconst c = 2
}
"""
    facts = extract_source("go", source, "p/p.go")
    assert symbol_lines(facts) == {
        "module p @1 public in -",
        "variable p.A @4 public in p",
        "variable p.B @4 public in p",
        "type p.T @8 public in p",
        "function p.f @10 private in p",
    }


@pytest.mark.parametrize("rel", ["main.go", "store/store.go", "store/base.go"])
def test_every_truncation_of_a_fixture_extracts_without_raising(rel):
    check_truncations("go", rel, step=7)


FILES = ["main.go", "store/store.go", "store/base.go"]
NOISE = [
    b"{",
    b"}",
    b"(",
    b")",
    b"func ",
    b"type ",
    b"struct",
    b"interface",
    b"`",
    b'"',
    b"//",
    b"/*",
    b"\n",
    b".",
    b":=",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_sources_extract_without_raising(data):
    check_mangled("go", data, FILES, NOISE)


def test_syntax_errors_keep_what_parses_and_say_where():
    source = b"""package p

func Good() int { return 1 }

func Bad( {

type Later struct { X int }
"""
    facts = extract_source("go", source, "p/p.go")
    check_invariants(facts, source)
    names = {s.qualified_name for s in facts.symbols}
    assert "p.Good" in names
    assert facts.error is not None and "line" in facts.error


def test_binary_garbage_does_not_raise():
    source = bytes(range(256)) * 8
    facts = extract_source("go", source, "junk.go")
    check_invariants(facts, source)
    assert facts.error is not None


# -- resolved edges, through the real index build ----------------------------------

#: A method defined in another file than its receiver type is parented to the
#: package; the resolver still finds it through the type's qualified name, both
#: ways: `log` (in base.go) is Store's method, and inside it `s` is a Store.
ADOPTED_METHODS = {
    "calls store.Store.log -> Rename @store/base.go:21 => store.Base.Rename (store/base.go) self",
    "calls store.Store.Add -> log @store/store.go:58 => store.Store.log (store/base.go) self",
}


@pytest.mark.timeout(120)
def test_resolved_edges_of_the_fixture_project():
    from lang_kit import indexed_edges

    assert (
        indexed_edges("go")
        == {
            "imports . -> fmt @main.go:5 => -",
            "imports . -> example.com/shop/store @main.go:6 => store (store/base.go) import",
            "calls main -> st.New @main.go:13 => store.New (store/store.go) import",
            "calls main -> s.Add @main.go:14 => -",
            "calls main -> fmt.Println @main.go:15 => -",
            "calls main -> describe @main.go:15 => describe (main.go) local",
            "calls describe -> st.Store.Name @main.go:19 => store.Store.Name (store/base.go) import",
            "imports store -> strings @store/base.go:3 => -",
            "calls store.Base.Rename -> strings.TrimSpace @store/base.go:12 => -",
            "imports store -> io @store/store.go:5 => -",
            "imports store -> sync @store/store.go:6 => -",
            "inherits store.Store -> Base @store/store.go:17 => store.Base (store/base.go) package",
            "inherits store.Store -> sync.Mutex @store/store.go:18 => -",
            "inherits store.Repository -> io.Closer @store/store.go:27 => -",
            "returns store.Repository.Load -> Store @store/store.go:29 => store.Store (store/store.go) local",
            "returns store.New -> Store @store/store.go:41 => store.Store (store/store.go) local",
            "calls store.New -> Store.init @store/store.go:43 => store.Store.init (store/store.go) local",
            "calls store.Store.init -> Base.Rename @store/store.go:49 => store.Base.Rename (store/base.go) package",
            "calls store.Store.Add -> Lock @store/store.go:55 => -",
            "calls store.Store.Add -> Unlock @store/store.go:56 => -",
            "calls store.Store.Add -> append @store/store.go:57 => -",
        }
        | ADOPTED_METHODS
    )


def test_broken_receiver_names_no_type():
    """A receiver list the parser recovered from broken code (``func (Lock()``
    swallowing the next lines) gives no receiver type, not its text with newlines."""
    source = b"package p\n\nfunc (Lock()\n\tdefer s.Unlock()\n\ts.items = append(s.items, it)\n}\n"
    facts = extract_source("go", source, "p/p.go")
    check_invariants(facts, source)


def test_type_arguments_of_an_embedded_type_are_not_bases():
    source = (
        b"package p\n"
        b"type Items struct {\n\tList[Item]\n\t*pkg.Box[Item, Key]\n}\n"
        b"type Reader interface {\n\tSource[Item]\n}\n"
    )
    inherits = reference_lines(extract_source("go", source, "p/a.go"), "inherits")
    assert inherits == {
        "inherits p.Items -> List @3",
        "inherits p.Items -> pkg.Box @4",
        "inherits p.Reader -> Source @7",
    }
