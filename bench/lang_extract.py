"""Extraction speed and definition recall of the JavaScript, TypeScript, Java, C and C++ modules.

Run: ``python bench/lang_extract.py [--js DIR] [--ts DIR] [--java SRC_ZIP] [--c DIR]
[--cpp DIR] [--limit N]``.

For each language it parses and extracts every file of a real corpus (npm's
own JavaScript, the JDK's ``java.base`` sources from a ``src.zip``, whatever
TypeScript is given, the C headers of ``/usr/include`` and libstdc++'s
``bits/``) and prints:

- files, lines, parse seconds, extract seconds and extract throughput (lines/s):
  extraction must stay a small fraction of parsing (one compiled query per
  grammar, one pass over its captures);
- definition recall against universal-ctags when it is installed: the share of
  ctags's classes/interfaces/enums/functions/methods (graph.md §5 wants >= 99%)
  found by sqry with the same name (spaces aside: ctags writes ``operator ==``),
  where ctags's line (the name's) lies from two lines before sqry's start line
  (where the definition begins: its ``template<...>``, annotations, return type)
  to eight after it, within the definition; plus a few misses to read.
  ctags's JavaScript parser also tags things that are not declarations:
  object literals holding functions become "classes" and their members
  "methods", calls such as ``list.push(x)`` or ``Object.prototype.f.call()``
  become classes or methods, callbacks become ``AnonymousFunction…``. sqry
  does not model those as symbols, so for JavaScript only ctags tags that are
  written as declarations count (a ``class Name``, a member of such a class, a
  named ``function``/arrow); the others are counted and shown as ctags noise.

Numbers only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import glob
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter

from sqry.graph.languages.base import LanguageSpec, all_languages

# ctags kinds that are definitions sqry must find, per ctags language.
CTAGS_KINDS = {
    "JavaScript": {"class", "function", "method", "generator", "getter", "setter"},
    "TypeScript": {"class", "interface", "enum", "function", "method", "namespace"},
    "Java": {"class", "interface", "enum", "annotation", "method", "enumConstant"},
    # ctags reads .h as C++; its C and C++ kinds share these names
    "C,C++": {"class", "struct", "union", "enum", "function", "namespace"},
}
OUR_KINDS = {
    "class", "interface", "enum", "function", "method", "namespace", "enum_variant", "struct",
    "union",
}  # fmt: skip


@dataclass
class Result:
    files: int = 0
    lines: int = 0
    parse_s: float = 0.0
    extract_s: float = 0.0
    symbols: int = 0
    references: int = 0
    with_errors: int = 0
    ctags_total: int = 0
    ctags_found: int = 0
    ctags_noise: int = 0
    misses: list[str] = field(default_factory=list)


def definitions(
    spec: LanguageSpec, root: Path, rel: str, result: Result
) -> list[tuple[str, int, int]]:
    """Parse and extract one file, timing both; its definitions as (name, first
    line, last line)."""
    source = (root / rel).read_bytes()
    grammar = spec.grammar_for(rel) if spec.grammar_for else spec.grammar()
    parser = tree_sitter.Parser(grammar)
    started = time.perf_counter()
    tree = parser.parse(source)
    parsed = time.perf_counter()
    facts = spec.extract(tree, source, rel, spec.module_name(rel))
    result.extract_s += time.perf_counter() - parsed
    result.parse_s += parsed - started
    result.files += 1
    result.lines += source.count(b"\n")
    result.symbols += len(facts.symbols)
    result.references += len(facts.references)
    result.with_errors += facts.error is not None
    found = []
    for sym in facts.symbols:
        if sym.kind in OUR_KINDS:
            parent = facts.symbols[sym.parent].name if sym.parent is not None else ""
            # ctags names a Java constructor after its class; sqry names it <init>.
            # ctags drops the ``#`` of JavaScript private names.
            name = parent if sym.name == "<init>" else sym.name.lstrip("#")
            found.append((name.replace(" ", ""), sym.start_line, sym.end_line))
    return found


def ctags_definitions(root: Path, rels: list[str], language: str) -> dict[str, list[dict]]:
    """ctags's tags per file (empty when universal-ctags is not installed)."""
    exe = shutil.which("ctags-universal") or shutil.which("ctags")
    if exe is None:
        return {}
    out = subprocess.run(
        [exe, "--output-format=json", "--fields=+nKZ", f"--languages={language}",
         "-f", "-", "-L", "-"],
        input="\n".join(rels), capture_output=True, text=True, errors="replace", cwd=root,
        check=False,
    ).stdout  # fmt: skip
    tags: dict[str, list[dict]] = {}
    for line in out.splitlines():
        try:
            tag = json.loads(line)
        except json.JSONDecodeError:  # ctags cuts very long patterns mid-string
            continue
        if tag.get("_type") == "tag" and tag.get("kind") in CTAGS_KINDS[language]:
            tags.setdefault(tag["path"], []).append(tag)
    return tags


def _declares_class(tag: dict) -> bool:
    return tag.get("kind") == "class" and f"class {tag['name']}" in tag.get("pattern", "")


def _js_declaration(tag: dict, real_classes: set[str]) -> bool:
    """Whether a ctags JavaScript tag is written as a declaration (see module doc)."""
    kind, pattern = tag.get("kind"), tag.get("pattern", "")
    if kind == "class":
        return _declares_class(tag)
    if kind == "function":
        named = not tag["name"].startswith("AnonymousFunction")
        return named and ("function" in pattern or "=>" in pattern)
    scope = tag.get("scope", "").rsplit(".", 1)[-1]
    return tag.get("scopeKind") == "class" and scope in real_classes


def measure(spec: LanguageSpec, ctags_language: str, root: Path, rels: list[str]) -> Result:
    result = Result()
    tags = ctags_definitions(root, rels, ctags_language)
    for rel in rels:
        ours = definitions(spec, root, rel, result)
        by_name: dict[str, list[tuple[int, int]]] = {}
        for name, start, end in ours:
            by_name.setdefault(name, []).append((start, end))
        file_tags = tags.get(rel, [])
        real_classes = {t["name"] for t in file_tags if _declares_class(t)}
        for tag in file_tags:
            if ctags_language == "JavaScript" and not _js_declaration(tag, real_classes):
                result.ctags_noise += 1
                continue
            if tag["name"].startswith("__anon"):  # ctags's name for a lambda
                result.ctags_noise += 1
                continue
            result.ctags_total += 1
            at = tag["line"]
            spans = by_name.get(tag["name"].replace(" ", ""), ())
            if any(start - 2 <= at <= min(end, start + 8) for start, end in spans):
                result.ctags_found += 1
            elif len(result.misses) < 8:
                result.misses.append(f"{rel}:{tag['line']} {tag['kind']} {tag['name']}")
    return result


def report(name: str, result: Result) -> None:
    if not result.files:
        print(f"{name}: no files")
        return
    rate = result.lines / result.extract_s if result.extract_s else float("inf")
    print(
        f"{name}: {result.files} files, {result.lines} lines; parse {result.parse_s:.2f}s, "
        f"extract {result.extract_s:.2f}s ({rate:,.0f} lines/s, "
        f"{result.extract_s / result.parse_s:.0%} of parse); {result.symbols} symbols, "
        f"{result.references} references; {result.with_errors} files with syntax errors"
    )
    if result.ctags_total:
        recall = result.ctags_found / result.ctags_total
        print(
            f"  ctags definition recall: {recall:.2%} ({result.ctags_found}/{result.ctags_total})"
            f"; ctags tags that are not declarations, left aside: {result.ctags_noise}"
        )
        for miss in result.misses:
            print(f"    missed {miss}")


def files_under(root: Path, suffixes: tuple[str, ...], limit: int) -> list[str]:
    found = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.suffix in suffixes and p.is_file() and "node_modules/.bin" not in p.as_posix()
    )
    return found[:limit]


def java_corpus(src_zip: Path, dest: Path, limit: int) -> list[str]:
    """The first ``limit`` ``java.base`` sources of a JDK ``src.zip``, unpacked."""
    with zipfile.ZipFile(src_zip) as archive:
        names = sorted(n for n in archive.namelist()
                       if n.startswith("java.base/java/") and n.endswith(".java"))[:limit]  # fmt: skip
        for name in names:
            archive.extract(name, dest)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    optional_dir = lambda text: Path(text) if text else None  # noqa: E731 ('' skips it)
    parser.add_argument("--js", type=optional_dir, default=Path("/usr/lib/node_modules/npm"))
    parser.add_argument("--ts", type=optional_dir, default=None)
    zips = sorted(glob.glob("/usr/lib/jvm/*/lib/src.zip")) + sorted(
        glob.glob("/usr/lib/jvm/*/src.zip")
    )
    parser.add_argument("--java", type=optional_dir, default=Path(zips[0]) if zips else None)
    parser.add_argument("--c", type=optional_dir, default=Path("/usr/include"))
    cpp_bits = sorted(glob.glob("/usr/include/c++/*/bits"))
    parser.add_argument(
        "--cpp", type=optional_dir, default=Path(cpp_bits[-1]) if cpp_bits else None
    )
    parser.add_argument("--limit", type=int, default=1500, help="files per language")
    args = parser.parse_args(argv)
    languages = all_languages()
    counter: Counter[str] = Counter()
    if args.js and args.js.is_dir():
        rels = files_under(args.js, (".js", ".mjs", ".cjs"), args.limit)
        report("javascript", measure(languages["javascript"], "JavaScript", args.js, rels))
        counter["javascript"] = len(rels)
    if args.ts and args.ts.is_dir():
        rels = files_under(args.ts, (".ts", ".tsx"), args.limit)
        report("typescript", measure(languages["typescript"], "TypeScript", args.ts, rels))
    for option, name, suffixes in ((args.c, "c", (".h",)), (args.cpp, "cpp", (".h", ".tcc"))):
        if option and option.is_dir():
            rels = files_under(option, suffixes, args.limit)
            report(f"{name} ({option})", measure(languages[name], "C,C++", option, rels))
    java_zip = args.java if args.java and args.java.is_file() else None
    if java_zip is not None:
        with tempfile.TemporaryDirectory(prefix="sqbench") as tmp:
            rels = java_corpus(java_zip, Path(tmp), args.limit)
            report(f"java ({java_zip})", measure(languages["java"], "Java", Path(tmp), rels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
