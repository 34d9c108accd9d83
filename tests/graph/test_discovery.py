"""Discovery (graph.md §1 "Files"): ignore files, default skips, hidden, symlinks,
binaries, the size cap and language detection — through ``discover()`` and real
trees on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sqry.graph.discovery import DiscoveryConfigError, discover
from sqry.graph.ignore import IgnoreLevel, IgnoreStack, parse_rules
from sqry.graph.languages.base import all_languages, language_names


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def paths(root: Path, **options: bool) -> set[str]:
    return {f.path for f in discover(str(root), **options).files}


# ------------------------------------------------------------------ the matcher


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("*.log", "a.log", False, True),
        ("*.log", "deep/er/a.log", False, True),
        ("*.log", "a.log.py", False, False),
        ("/top.py", "top.py", False, True),
        ("/top.py", "sub/top.py", False, False),
        ("out/", "out", True, True),
        ("out/", "out", False, False),
        ("out/", "a/out", True, True),
        ("a/b.py", "a/b.py", False, True),
        ("a/b.py", "x/a/b.py", False, False),
        ("**/gen/*.py", "gen/x.py", False, True),
        ("**/gen/*.py", "a/b/gen/x.py", False, True),
        ("**/gen/*.py", "a/gen/sub/x.py", False, False),
        ("docs/**", "docs/a/b.py", False, True),
        ("docs/**", "docs", True, False),
        ("a/**/b.py", "a/b.py", False, True),
        ("a/**/b.py", "a/x/y/b.py", False, True),
        ("a/**/b.py", "ab.py", False, False),
        ("x**y.py", "xay.py", False, True),
        ("x**y.py", "x/y.py", False, False),
        ("file?.py", "file1.py", False, True),
        ("file?.py", "file/.py", False, False),
        ("file[0-9].py", "file7.py", False, True),
        ("file[0-9].py", "filex.py", False, False),
        ("file[!0-9].py", "filex.py", False, True),
        ("file[^0-9].py", "file7.py", False, False),
        ("file[[:alpha:]].py", "fileQ.py", False, True),
        ("file[]].py", "file].py", False, True),
        ("\\#hash.py", "#hash.py", False, True),
        ("\\!bang.py", "!bang.py", False, True),
        ("star\\*.py", "star*.py", False, True),
        ("star\\*.py", "starx.py", False, False),
        ("trail.py   ", "trail.py", False, True),
        ("space\\ ", "space ", False, True),
        ("# comment.py", "# comment.py", False, False),
    ],
)
def test_gitignore_patterns(pattern: str, path: str, is_dir: bool, ignored: bool) -> None:
    stack = IgnoreStack().push(IgnoreLevel("", parse_rules(pattern)))
    assert stack.ignored(path, is_dir) is ignored


def test_last_rule_wins_and_negation() -> None:
    rules = parse_rules("*.py\n!keep*.py\nkeep_not.py\n")
    stack = IgnoreStack().push(IgnoreLevel("", rules))
    assert stack.ignored("a.py", False)
    assert not stack.ignored("keep_me.py", False)
    assert stack.ignored("keep_not.py", False)


def test_nested_level_is_relative_and_wins() -> None:
    stack = IgnoreStack().push(IgnoreLevel("", parse_rules("gen_*.py\n")))
    stack = stack.push(IgnoreLevel("sub", parse_rules("!gen_keep.py\n/local.py\n")))
    assert stack.ignored("gen_keep.py", False)
    assert not stack.ignored("sub/gen_keep.py", False)
    assert stack.ignored("sub/gen_other.py", False)
    assert stack.ignored("sub/local.py", False)
    assert not stack.ignored("sub/deeper/local.py", False)
    assert not stack.ignored("local.py", False)


# ------------------------------------------------------------------ real trees


def test_gitignore_at_every_level(workspace: Path) -> None:
    write(workspace, ".gitignore", "gen_*.py\nvendored/\n!vendored/keep.py\n/rootonly.py\n")
    write(workspace, "gen_a.py")
    write(workspace, "main.py")
    write(workspace, "rootonly.py")
    write(workspace, "pkg/rootonly.py")
    write(workspace, "pkg/.gitignore", "!gen_keep.py\n/local.py\n")
    write(workspace, "pkg/gen_keep.py")
    write(workspace, "pkg/gen_drop.py")
    write(workspace, "pkg/local.py")
    write(workspace, "pkg/deep/local.py")
    write(workspace, "vendored/keep.py")  # cannot be re-included: its directory is excluded
    assert paths(workspace) == {
        "main.py",
        "pkg/rootonly.py",
        "pkg/gen_keep.py",
        "pkg/deep/local.py",
    }


def test_git_info_exclude_and_sqryignore(workspace: Path) -> None:
    write(workspace, ".git/info/exclude", "secret.py\nx.py\n")
    write(workspace, ".gitignore", "!x.py\n")  # .gitignore beats info/exclude
    write(workspace, "secret.py")
    write(workspace, "x.py")
    write(workspace, "a/.sqryignore", "heavy_*.py\n")
    write(workspace, "a/.gitignore", "!heavy_keep.py\nheavy_git.py\n")
    write(workspace, "a/heavy_one.py")
    write(workspace, "a/heavy_keep.py")  # .sqryignore beats .gitignore in the same dir
    write(workspace, "a/heavy_git.py")
    write(workspace, "a/light.py")
    write(workspace, "b/heavy_two.py")  # the nested .sqryignore does not reach here
    assert paths(workspace) == {"x.py", "a/light.py", "b/heavy_two.py"}


def test_default_skipped_directories(workspace: Path) -> None:
    for skipped in ("node_modules", "build", "dist", "vendor", "venv", "target", "__pycache__"):
        write(workspace, f"{skipped}/m.py")
        write(workspace, f"src/{skipped}/m.py")
    write(workspace, "src/ok.py")
    write(workspace, "build.py")  # a file named like a skipped directory is fine
    assert paths(workspace) == {"src/ok.py", "build.py"}
    assert paths(workspace, hidden=True) == {"src/ok.py", "build.py"}


def test_hidden_files_and_dirs(workspace: Path) -> None:
    write(workspace, ".hidden/m.py")
    write(workspace, ".dot.py")
    write(workspace, "shown.py")
    write(workspace, ".git/hooks/h.py")
    write(workspace, ".sqry/x.py")
    assert paths(workspace) == {"shown.py"}
    assert paths(workspace, hidden=True) == {".hidden/m.py", ".dot.py", "shown.py"}


def test_symlinks_skipped_unless_follow(workspace: Path) -> None:
    write(workspace, "real/m.py")
    os.symlink(workspace / "real" / "m.py", workspace / "link.py")
    os.symlink(workspace / "real", workspace / "linkdir")
    os.symlink(workspace, workspace / "real" / "loop")  # a cycle back to the root
    os.symlink(workspace / "missing.py", workspace / "broken.py")
    found = discover(str(workspace))
    assert {f.path for f in found.files} == {"real/m.py"}
    assert found.skipped_symlinks == 4
    followed = discover(str(workspace), follow=True)
    assert {f.path for f in followed.files} == {"real/m.py", "link.py", "linkdir/m.py"}
    messages = {w.path: w.message for w in followed.warnings}
    assert set(messages) == {"real/loop", "linkdir/loop", "broken.py"}
    assert "symlink loop" in messages["real/loop"]
    assert "symlink loop" in messages["linkdir/loop"]
    assert "broken symlink" in messages["broken.py"]


def test_binary_files_skipped(workspace: Path) -> None:
    write(workspace, "text.py")
    (workspace / "blob.py").write_bytes(b"x = 1\n" + b"\0" * 10)
    late = b"#" * 9000 + b"\0"  # a NUL after the first 8 KiB does not make it binary
    (workspace / "late.py").write_bytes(late)
    found = discover(str(workspace))
    assert {f.path for f in found.files} == {"text.py", "late.py"}
    assert found.skipped_binary == 1


def test_size_limit_and_env_override(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(workspace, "small.py", "x = 1\n")
    write(workspace, "big.py", "x = 1\n" * 400)  # 2400 bytes
    assert paths(workspace) == {"small.py", "big.py"}
    monkeypatch.setenv("SQRY_MAX_SOURCE_FILE_SIZE", "1000")
    found = discover(str(workspace))
    assert {f.path for f in found.files} == {"small.py"}
    assert [w.path for w in found.warnings] == ["big.py"]
    assert "1000-byte limit" in found.warnings[0].message
    assert "SQRY_MAX_SOURCE_FILE_SIZE" in found.warnings[0].message
    monkeypatch.setenv("SQRY_MAX_SOURCE_FILE_SIZE", "ten")
    with pytest.raises(DiscoveryConfigError, match="SQRY_MAX_SOURCE_FILE_SIZE='ten'"):
        discover(str(workspace))


def test_language_by_extension_and_shebang(workspace: Path) -> None:
    write(workspace, "a.py")
    write(workspace, "b.PY")
    write(workspace, "notes.txt", "text\n")
    write(workspace, "tool", "#!/usr/bin/env python3\nprint(1)\n")
    write(workspace, "tool2", "#!/usr/bin/python3.11 -u\nprint(1)\n")
    write(workspace, "shell", "#!/bin/sh\necho\n")
    write(workspace, "plain", "no shebang\n")
    found = {f.path: f.language for f in discover(str(workspace)).files}
    assert found == {"a.py": "python", "b.PY": "python", "tool": "python", "tool2": "python"}


def test_results_sorted_with_stat(workspace: Path) -> None:
    for name in ("c.py", "a.py", "b/z.py", "b/a.py"):
        write(workspace, name)
    files = discover(str(workspace)).files
    assert [f.path for f in files] == ["a.py", "b/a.py", "b/z.py", "c.py"]
    st = os.stat(workspace / "a.py")
    assert (files[0].size, files[0].mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_language_names_match_the_language_modules() -> None:
    """``language_names()`` lists modules without importing them; each must hold the
    spec of its own name, or ``--lang`` checks would reject a supported language."""
    specs = all_languages()
    assert language_names() == set(specs)
    assert all(d in specs for spec in specs.values() for d in spec.dialects)
