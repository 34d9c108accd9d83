"""Extraction speed of the language modules: parse time vs. extract time per language.

    python bench/languages.py                 # the test fixtures, each file x200
    python bench/languages.py /usr/include    # real files under the given paths

Prints, per language: files, source lines, tree-sitter parse time, extraction
time (the language module's walk), extracted lines per second, symbols and
references. Extraction is the part the language modules own; it should stay
well below the parse time (one walk per file, grammars loaded once).
Single process; times are CPU time of this process (robust to a busy machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import tree_sitter

from sqry.graph.languages.base import all_languages, language_for_extension, using_workspace

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "graph" / "fixtures"
MAX_FILES_PER_LANGUAGE = 2000


def fixture_corpus(repeat: int) -> dict[str, list[tuple[str, bytes]]]:
    """Every fixture file of every language, ``repeat`` times."""
    corpus: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for path in sorted(FIXTURES.rglob("*")):
        spec = language_for_extension(path.suffix.lower()) if path.is_file() else None
        if spec is not None:
            rel = path.relative_to(FIXTURES / path.relative_to(FIXTURES).parts[0]).as_posix()
            corpus[spec.name].extend([(rel, path.read_bytes())] * repeat)
    return corpus


def tree_corpus(roots: list[str]) -> dict[str, list[tuple[str, bytes]]]:
    """Source files under ``roots`` by language (at most MAX_FILES_PER_LANGUAGE each)."""
    corpus: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for root in roots:
        for directory, _dirs, files in os.walk(root):
            for name in sorted(files):
                spec = language_for_extension(os.path.splitext(name)[1].lower())
                if spec is None or len(corpus[spec.name]) >= MAX_FILES_PER_LANGUAGE:
                    continue
                path = os.path.join(directory, name)
                try:
                    data = Path(path).read_bytes()
                except OSError:
                    continue
                if len(data) <= 10 * 1024 * 1024 and b"\0" not in data[:8192]:
                    corpus[spec.name].append((os.path.relpath(path, root), data))
    return corpus


def measure(language: str, files: list[tuple[str, bytes]]) -> dict[str, float]:
    spec = all_languages()[language]
    parser = tree_sitter.Parser(spec.grammar())
    parse_s = extract_s = 0.0
    symbols = refs = lines = 0
    for rel, source in files:
        started = time.process_time()
        tree = parser.parse(source)
        parsed = time.process_time()
        facts = spec.extract(tree, source, rel, spec.module_name(rel))
        extract_s += time.process_time() - parsed
        parse_s += parsed - started
        symbols += len(facts.symbols)
        refs += len(facts.references)
        lines += source.count(b"\n") + 1
    return {
        "files": len(files),
        "lines": lines,
        "parse_s": parse_s,
        "extract_s": extract_s,
        "symbols": symbols,
        "refs": refs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="directories of real code (default: fixtures)")
    parser.add_argument("--repeat", type=int, default=200, help="fixture copies (default 200)")
    parser.add_argument("--lang", action="append", help="only these languages")
    args = parser.parse_args(argv)
    corpus = tree_corpus(args.paths) if args.paths else fixture_corpus(args.repeat)
    source = ", ".join(args.paths) if args.paths else f"fixtures x{args.repeat}"
    print(f"extraction benchmark ({source}); one process, one core")
    print(
        f"{'language':<11}{'files':>7}{'lines':>10}{'parse ms':>10}{'extract ms':>12}"
        f"{'klines/s':>10}{'symbols':>9}{'refs':>9}"
    )
    with using_workspace(args.paths[0] if args.paths else str(FIXTURES)):
        for language in sorted(corpus):
            if args.lang and language not in args.lang:
                continue
            m = measure(language, corpus[language])
            rate = m["lines"] / m["extract_s"] / 1000 if m["extract_s"] else float("inf")
            print(
                f"{language:<11}{m['files']:>7}{m['lines']:>10}{m['parse_s'] * 1000:>10.0f}"
                f"{m['extract_s'] * 1000:>12.0f}{rate:>10.0f}{m['symbols']:>9}{m['refs']:>9}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
