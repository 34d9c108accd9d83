"""A second parse, with annotation macros blanked out, for C/C++ files that fail to parse.

tree-sitter parses the source as written, without a preprocessor, so a macro that
expands to an attribute or to nothing derails it: ``namespace std
_GLIBCXX_VISIBILITY(default) {``, an ``EXPORT_API`` or ``_GLIBCXX20_CONSTEXPR`` line
above a declaration, ``int f() _GLIBCXX_NOEXCEPT {``. Error recovery then loses
whole classes (libstdc++'s ``basic_string`` was one ERROR node).

When, and only when, a file's tree has errors, :func:`reparsed` blanks such macros
(each byte of them becomes a space, newlines kept, so every position is
unchanged) and parses again; the extractor reads names and signatures from the
original bytes. A file that parses cleanly is never touched. What counts as an
annotation macro is an all-caps name (optionally with arguments) that is:

- between ``namespace NAME`` and ``{``;
- alone on its line, and the next code line starts a declaration (a keyword
  such as ``template``/``inline``/``void``, ``[[``, ``~``, another such macro, a
  type followed by a name, or a name followed by ``(``) — never before ``}``,
  ``,`` or ``;``, so the last enumerator of an ``enum`` stays;
- at the start of a line, directly followed by such a declaration keyword or
  macro (``EXPORT int f();``, but not ``T const x``: ``const`` follows types);
- after a parameter list's ``)`` (and ``const``), before ``{``, ``;``, ``:``, ``=``,
  ``->``, ``override``, ``final``, ``noexcept`` or ``const``.

Macros inside ``#if`` branches that split one declaration are beyond this.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tree_sitter

# An all-caps name with at least one letter, then optional arguments. The
# lookahead finds the letter and the single greedy run takes the name: linear,
# where two adjacent starred classes would backtrack quadratically.
_MACRO = rb"(?=[A-Z0-9_]*[A-Z])[A-Z_][A-Z0-9_]*(?![\w$])(?:[ \t]*\([^()\n]*\))?"
_KEYWORDS = (
    rb"template|class|struct|union|enum|namespace|typedef|using|inline|static|extern|"
    rb"constexpr|consteval|constinit|virtual|explicit|friend|void|bool|char|short|int|"
    rb"long|float|double|signed|unsigned|auto|typename"
)
_DECLARATION = rb"(?:(?:" + _KEYWORDS + rb")\b|\[\[|~|" + _MACRO + rb")"
# Blank lines, comment lines and preprocessor lines between a macro and its declaration.
_SKIPPED_LINES = rb"(?:[ \t]*(?:\n|//[^\n]*\n|/?\*[^\n]*\n|#[^\n]*\n))*"

_IN_NAMESPACE = re.compile(rb"\bnamespace[ \t]+[A-Za-z_][\w:]*[ \t]+(" + _MACRO + rb")(?=\s*\{)")
_ALONE = re.compile(
    rb"^[ \t]*(" + _MACRO + rb")[ \t]*(?://[^\n]*)?\n(?=" + _SKIPPED_LINES + rb"[ \t]*(?:"
    + _DECLARATION
    + rb"|[A-Za-z_][\w:<>,]*[\s*&]+[A-Za-z_~]|[A-Za-z_~][\w:]*[ \t]*\())",
    re.MULTILINE,
)  # fmt: skip
_BEFORE_DECLARATION = re.compile(
    rb"^[ \t]*(" + _MACRO + rb")(?=[ \t]+" + _DECLARATION + rb")", re.MULTILINE
)
_AFTER_PARAMETERS = re.compile(
    rb"\)\s*(?:const\s*)?(" + _MACRO + rb")"
    rb"(?=\s*(?:[{;:=]|->|override\b|final\b|noexcept\b|const\b))"
)
_NOT_NEWLINE = re.compile(rb"[^\n]")
#: Text that is nothing but annotation macros (between a doc comment and its declaration).
ONLY_MACROS = re.compile(rb"\s*(?:" + _MACRO + rb"\s*)+")


def blank_annotation_macros(source: bytes) -> bytes:
    """``source`` with the annotation macros (module doc) turned into spaces."""
    out = bytearray(source)
    spans = [m.span(1) for pattern in (_IN_NAMESPACE, _ALONE, _AFTER_PARAMETERS)
             for m in pattern.finditer(source)]  # fmt: skip
    # ``A B int f();``: blanking A makes B the line's first name, so repeat
    for _ in range(4):
        found = [m.span(1) for m in _BEFORE_DECLARATION.finditer(out)]
        for start, end in found:
            out[start:end] = b" " * (end - start)
        if not found:
            break
    for start, end in spans:
        out[start:end] = _NOT_NEWLINE.sub(b" ", out[start:end])
    return bytes(out)


def reparsed(
    tree: tree_sitter.Tree, source: bytes, language: tree_sitter.Language
) -> tree_sitter.Tree:
    """``tree``, or if it has errors that blanking macros may cure, the tree of the
    blanked source (same length, same positions)."""
    if not tree.root_node.has_error:
        return tree
    blanked = blank_annotation_macros(source)
    if blanked == source:
        return tree
    import tree_sitter

    return tree_sitter.Parser(language).parse(blanked)
