"""SQLite schema of ``<root>/.sqry/index.db``.

Bump :data:`SCHEMA_VERSION` whenever the DDL or the meaning of a column changes;
an index with another version is refused with a hint to run ``sqry index --force``
(an older version's is rebuilt by a plain ``sqry index`` too).

Bump :data:`ENGINE_VERSION` whenever extraction or resolution would produce other
rows from the same files (a new rule, a fixed extractor): the schema still fits,
but an incremental build would keep the old rows of every unchanged file, so the
next ``sqry index`` of an index built by another engine version rebuilds it in
full, without being asked to.
"""

SCHEMA_VERSION = 4  # 4: files.star_names
# 2: Java/C++ inherited calls, Rust inline modules, BOM; 3: C++ T& f(); 4: __all__,
# C/C++ reparse without annotation macros, operators, hidden friends; Rust inline
# pub use; super calls; calls through typed locals and attributes; import os.path;
# 5: Python functions bound to lambdas; no template/generic arguments as bases (C++,
# Rust, Go); Java for-each, resource and instanceof locals typed; Rust impl of a
# used type; ES named imports take only exports; Rust globs take pub uses; C++
# out-of-class members see the classes around theirs; an alias imports bind to
# different modules is ambiguous; Python's last redefinition binds; 6: imports
# written in a function bind only there; no Python `package` rule; `unique` skips
# definitions private to another file; a subclass types only the attributes its
# own __init__ sets; Python `-> Repo[int]` returns `Repo`; 7: a namespace member
# is no `unique` candidate for a bare name, nor a builtin head's member; C++ `::f`
# kept as written; `using namespace` of one outside the workspace stops the search;
# reopened namespaces before outer scopes; Java package before `*` imports; a Go
# receiver bound again in its method is not `self`; a .h with a namespace block or
# a template is C++; a Go external test package (`package x_test`) is its own; a
# bare call in a Java anonymous class looks in its supertype first; 8: calls through
# typed fields (Java, TypeScript, JavaScript `this.x = new X()`); Java and Rust calls
# never bind fields; Java this(...)/super(...); Go, Rust, C++ typed locals; comments out of
# signatures; quoted Python return annotations unwrap
ENGINE_VERSION = 8

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per discovered source file (also files that failed to parse).
CREATE TABLE IF NOT EXISTS files (
    id         INTEGER PRIMARY KEY,
    path       TEXT NOT NULL UNIQUE,   -- workspace-relative, POSIX separators
    language   TEXT NOT NULL,
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    hash       TEXT NOT NULL,          -- blake2b hex of the content
    module     TEXT NOT NULL,          -- qualified name of the file's module symbol
    error      TEXT,                   -- parse/extract error, NULL when fine
    star_names TEXT                    -- what `*` imports of it take (Python __all__),
                                       -- newline-separated; NULL: the language's rule
);
CREATE TABLE IF NOT EXISTS symbols (
    id             INTEGER PRIMARY KEY,
    file_id        INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    language       TEXT NOT NULL,
    start_line     INTEGER NOT NULL,
    start_column   INTEGER NOT NULL,
    end_line       INTEGER NOT NULL,
    end_column     INTEGER NOT NULL,
    signature      TEXT NOT NULL DEFAULT '',
    visibility     TEXT NOT NULL DEFAULT 'public',
    is_async       INTEGER NOT NULL DEFAULT 0,
    is_static      INTEGER NOT NULL DEFAULT 0,
    doc            TEXT NOT NULL DEFAULT '',
    parent_id      INTEGER                -- enclosing symbol, NULL for a module
);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name);
CREATE INDEX IF NOT EXISTS symbols_qname ON symbols(qualified_name);
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
CREATE INDEX IF NOT EXISTS symbols_parent ON symbols(parent_id);
-- Relations. target_id NULL means unresolved; target_text is always kept.
-- `contains` edges are structural: target_id always set, resolved_via NULL.
CREATE TABLE IF NOT EXISTS edges (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,       -- contains calls imports inherits implements returns
    source_id     INTEGER NOT NULL,
    target_id     INTEGER,
    target_text   TEXT NOT NULL DEFAULT '',
    file_id       INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    line          INTEGER,
    column        INTEGER,
    member        TEXT,
    alias         TEXT,
    via_self      INTEGER NOT NULL DEFAULT 0,
    bound_locally INTEGER NOT NULL DEFAULT 0,  -- see model.Reference.bound_locally
    resolved_via  TEXT,               -- local import self package unique, NULL if unresolved
    ambiguous_via TEXT,               -- rule that found several candidates, NULL otherwise
    candidates    INTEGER NOT NULL DEFAULT 0, -- distinct candidates at that rule (1 if resolved)
    lookup        TEXT NOT NULL DEFAULT '',   -- engine-internal, see file_names
    reexport      INTEGER NOT NULL DEFAULT 0  -- an import that only exports (model.Reference)
);
CREATE INDEX IF NOT EXISTS edges_source ON edges(source_id, kind);
CREATE INDEX IF NOT EXISTS edges_target ON edges(target_id, kind);
CREATE INDEX IF NOT EXISTS edges_file ON edges(file_id);
-- Engine-internal: every name the resolution of an edge of the file looks up (the
-- segments of its target, its import member, its enclosing class for `self`
-- calls); each edge lists its own in `edges.lookup`, newline-separated.
-- Incremental re-indexing uses them to find the edges a changed definition could
-- rebind: files by name here, then their edges by `lookup`. (Per file, not per
-- edge and name: a few rows per file instead of several per edge.)
CREATE TABLE IF NOT EXISTS file_names (
    file_id INTEGER NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (file_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_names_name ON file_names(name);
"""
