"""Signatures are one line, and the line comments inside a header do not survive
the join: ``items: Vec<T>, // the items`` joined into one line would comment out
the rest of the header. Block comments (harmless on one line), what only looks
like a comment (in a string, a regex literal on one line) and doc lines stay."""

from __future__ import annotations

import pytest
from lang_kit import extract_source

CASES = {
    "python": (
        "mod.py",
        'def process(\n    items,  # the items\n    sep="#",\n    flag=False,  # off\n):\n'
        "    pass\n",
        "process",
        'def process( items, sep="#", flag=False, )',
    ),
    "rust": (
        "src/lib.rs",
        "pub fn process<'a, T>(\n    items: &'a [T], // the items\n"
        "    /* the test */ f: impl Fn(&T) -> bool,\n) -> Vec<T> {\n    todo!()\n}\n",
        "process",
        "pub fn process<'a, T>( items: &'a [T], /* the test */ f: impl Fn(&T) -> bool, ) -> Vec<T>",
    ),
    "typescript": (
        "src/fetch.ts",
        'export function fetchAll(\n  urls: string[], // the list\n  base = "http://x",\n'
        "): void {}\n",
        "fetchAll",
        'function fetchAll( urls: string[], base = "http://x", ): void',
    ),
    "java": (
        "App.java",
        "class App {\n    void run(int a, // first\n            char c /* '/' */) {}\n}\n",
        "run",
        "void run(int a, char c /* '/' */)",
    ),
    "go": (
        "main.go",
        "package main\n\nfunc Run(\n\taddr string, // where\n\tquiet bool,\n) error {\n"
        "\treturn nil\n}\n",
        "Run",
        "func Run( addr string, quiet bool, ) error",
    ),
    "c": (
        "lib.c",
        'int put(const char *key, /* owned */\n        const char *sep) // "x"\n{ return 0; }\n',
        "put",
        "int put(const char *key, /* owned */ const char *sep)",
    ),
}


@pytest.mark.parametrize("language", sorted(CASES))
def test_comments_inside_a_header_are_dropped_strings_kept(language: str, tmp_path) -> None:
    rel, source, name, expected = CASES[language]
    facts = extract_source(language, source.encode(), rel, tmp_path)
    assert facts.error is None
    found = {s.name: s.signature for s in facts.symbols}
    assert found[name] == expected, found


def test_a_one_line_header_and_doc_lines_keep_what_looks_like_a_comment(tmp_path) -> None:
    ts = (
        "/** Fetches from http://example.com/api, // and all. */\n"
        "export function strip(s: string, re = /\\/\\*.*?\\*\\//g): string { return s; }\n"
    )
    facts = extract_source("typescript", ts.encode(), "src/s.ts", tmp_path)
    strip = next(s for s in facts.symbols if s.name == "strip")
    assert strip.signature == "function strip(s: string, re = /\\/\\*.*?\\*\\//g): string"
    assert strip.doc == "Fetches from http://example.com/api, // and all."
    py = 'def top():\n    """Return the #1 item; see http://x.y/#z."""\n'
    facts = extract_source("python", py.encode(), "m.py", tmp_path)
    assert next(s for s in facts.symbols if s.name == "top").doc == (
        "Return the #1 item; see http://x.y/#z."
    )
    go = "package p\n\n// Get fetches https://example.com/x.\nfunc Get() {}\n"
    facts = extract_source("go", go.encode(), "p/g.go", tmp_path)
    assert next(s for s in facts.symbols if s.name == "Get").doc == (
        "Get fetches https://example.com/x."
    )
