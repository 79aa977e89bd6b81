#!/usr/bin/env python3
"""Inject known clones into a copy of a Python corpus (the mutation method).

    inject.py SRC DEST TRUTH.json [--count N] [--seed S] [--package django]

SRC is left untouched; DEST is created (it must not exist) as a copy of SRC in
which COUNT real functions or methods of the package directory (at least six
statements, 8 to 60 lines, 60 tokens or more) are copied, dedented to top level,
to the end of another file of the package, one of three ways in turn:

  type 1  the same code, only layout changed: comment lines inserted between
          statements, a blank line inserted, full-line comments dropped;
  type 2  identifiers consistently renamed (the function, its parameters and
          every local name; attributes, keywords and globals are left alone)
          and string and number literals changed, the layout kept token for
          token;
  type 3  type 2 plus one statement inserted, deleted or changed (in turn).

Only the ends of files are appended to, so every original keeps its line
numbers. Every file written is parsed again with `ast` before it is kept.
TRUTH.json lists [{id, type, mutation, original: {file, start, end},
copy: {file, start, end}}], paths relative to DEST, lines 1-based inclusive
(the `def` line to the last line of the body; decorators are not copied).
The result depends only on SRC, COUNT and SEED.
"""

import argparse
import ast
import io
import json
import keyword
import os
import random
import re
import shutil
import sys
import tokenize

MIN_STATEMENTS = 6
MIN_LINES = 8
MAX_LINES = 60
MIN_TOKENS = 60
MAX_COPIES_PER_FILE = 3

WORDS = (
    "item value result entry node data record field target source current state "
    "info spec part chunk token handle bucket cursor frame label marker option "
    "payload slot unit batch block cell piece member element subject context"
).split()
SUFFIXES = "alt new tmp val obj ref ptr acc buf res out var".split()
COMMENTS = (
    "keep the previous behaviour here",
    "see the note above",
    "handled separately below",
    "TODO: revisit this branch",
    "copied for the compatibility layer",
    "the order matters",
)
SKIP_TOKENS = {
    tokenize.NEWLINE,
    tokenize.NL,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.COMMENT,
    tokenize.ENDMARKER,
}


class Skip(Exception):
    """This candidate cannot be mutated this way; another is taken."""


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_tokens(text):
    return [
        t
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type not in SKIP_TOKENS
    ]


def count_statements(node):
    return sum(1 for n in ast.walk(node) if isinstance(n, ast.stmt)) - 1


def candidates(root, package):
    """Top-level functions and methods of top-level classes, big enough, one per body."""
    found = []
    base = os.path.join(root, package)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            try:
                text = read(path)
                tree = ast.parse(text)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            lines = text.splitlines(keepends=True)
            nodes = []
            for top in tree.body:
                if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    nodes.append(top)
                elif isinstance(top, ast.ClassDef):
                    nodes.extend(
                        n
                        for n in top.body
                        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                    )
            for fn in nodes:
                n_lines = fn.end_lineno - fn.lineno + 1
                if not (MIN_LINES <= n_lines <= MAX_LINES):
                    continue
                if count_statements(fn) < MIN_STATEMENTS:
                    continue
                indent = fn.col_offset
                src_lines = lines[fn.lineno - 1 : fn.end_lineno]
                if any(l.strip() and not l[:indent].isspace() and indent for l in src_lines):
                    continue  # a line (in a string) starts left of the def: cannot dedent
                source = "".join(l[indent:] if l.strip() else l.lstrip(" \t") for l in src_lines)
                if not source.endswith("\n"):
                    source += "\n"
                try:
                    tree_fn = ast.parse(source)
                    toks = code_tokens(source)
                except (SyntaxError, tokenize.TokenError, IndentationError):
                    continue
                if len(toks) < MIN_TOKENS:
                    continue
                # Normalised token text (names and literals blind) to keep one of each twin.
                norm = " ".join(
                    "N" if t.type == tokenize.NAME and not keyword.iskeyword(t.string)
                    else "L" if t.type in (tokenize.STRING, tokenize.NUMBER)
                    else t.string
                    for t in toks
                )
                found.append(
                    {
                        "file": rel,
                        "start": fn.lineno,
                        "end": fn.end_lineno,
                        "name": fn.name,
                        "source": source,
                        "tree": tree_fn.body[0],
                        "norm": norm,
                    }
                )
    counts = {}
    for c in found:
        counts[c["norm"]] = counts.get(c["norm"], 0) + 1
    return [c for c in found if counts[c["norm"]] == 1]


# ---------------------------------------------------------------- mutations


def statement_starts(fn):
    """(line, column) of every statement inside the function (1-based lines of the copy)."""
    out = []
    for n in ast.walk(fn):
        if isinstance(n, ast.stmt) and n is not fn:
            out.append((n.lineno, n.col_offset))
    return sorted(set(out))


def type1(c, rng):
    lines = c["source"].splitlines(keepends=True)
    starts = [s for s in statement_starts(c["tree"]) if s[0] > 1]
    if len(starts) < 2:
        raise Skip()
    inserts = {}
    for line, col in rng.sample(starts, 2):
        inserts.setdefault(line, []).append(" " * col + "# " + rng.choice(COMMENTS) + "\n")
    line, col = rng.choice(starts)
    inserts.setdefault(line, []).append("\n")
    comment_lines = {
        t.start[0]
        for t in tokenize.generate_tokens(io.StringIO(c["source"]).readline)
        if t.type == tokenize.COMMENT and t.line.lstrip().startswith("#")
    }
    out = []
    for i, l in enumerate(lines, start=1):
        out.extend(inserts.get(i, []))
        if i in comment_lines:
            continue  # a full-line comment of the original is dropped
        out.append(l)
    return "".join(out), "comments and blank lines"


def local_names(fn):
    names = {fn.name}
    declared_global = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            declared_global.update(n.names)
    names -= declared_global
    names -= {"self", "cls", "_", "__class__"}
    return names


def all_names(fn):
    out = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
        elif isinstance(n, ast.keyword) and n.arg:
            out.add(n.arg)
    return out


def fresh_names(names, taken, rng):
    mapping = {}
    used = set(taken) | set(dir(__builtins__)) | set(keyword.kwlist)
    for old in sorted(names):
        for _ in range(100):
            new = rng.choice(WORDS) + "_" + rng.choice(SUFFIXES)
            if old.startswith("_") and not new.startswith("_"):
                new = "_" + new
            if new not in used:
                break
        else:
            raise Skip()
        used.add(new)
        mapping[old] = new
    return mapping


def mutate_string(tok, rng):
    m = re.match(r"(?is)^([a-z]*)('''|\"\"\"|'|\")(.*)\2$", tok, re.S)
    if not m:
        return tok
    prefix, quote, body = m.groups()
    word = rng.choice(WORDS)
    if body == "":
        new_body = word
    elif "\n" in body:
        # keep the line count: put the word at the end of the first line
        first, rest = body.split("\n", 1)
        new_body = first + " " + word + "\n" + rest
    else:
        new_body = body + "_" + word if rng.random() < 0.5 else word + " " + body
    if "r" not in prefix.lower() and new_body.endswith("\\"):
        new_body += "\\"
    return prefix + quote + new_body + quote


def mutate_number(tok, rng):
    try:
        value = int(tok, 0)
        return str(value + rng.randint(1, 9))
    except ValueError:
        pass
    try:
        value = float(tok)
        return repr(round(value * 1.5 + 1, 3))
    except ValueError:
        return tok


def rename_in_fstring(tok, mapping):
    def fix(m):
        return re.sub(
            r"(?<![\w.])([A-Za-z_]\w*)",
            lambda n: mapping.get(n.group(1), n.group(1)),
            m.group(0),
        )

    return re.sub(r"\{[^{}]*\}", fix, tok)


def type2_text(c, rng):
    """Consistent renaming and literal changes, token by token; the layout is kept."""
    fn = c["tree"]
    mapping = fresh_names(local_names(fn), all_names(fn), rng)
    if len(mapping) < 2:
        raise Skip()
    toks = list(tokenize.generate_tokens(io.StringIO(c["source"]).readline))
    literals = [
        i
        for i, t in enumerate(toks)
        if t.type == tokenize.NUMBER
        or (t.type == tokenize.STRING and "f" not in t.string.split(t.string[-1])[0].lower())
    ]
    changed_literals = set()
    if literals:
        k = max(1, len(literals) // 2)
        changed_literals = set(rng.sample(literals, k))
    depth = 0
    in_header = True
    edits = []  # (row, col_start, col_end, new)
    for i, t in enumerate(toks):
        if t.type == tokenize.OP:
            if t.string in "([{":
                depth += 1
            elif t.string in ")]}":
                depth -= 1
            elif t.string == ":" and depth == 0 and in_header:
                in_header = False
        new = None
        if t.type == tokenize.NAME and t.string in mapping:
            prev = toks[i - 1].string if i else ""
            nxt = toks[i + 1].string if i + 1 < len(toks) else ""
            is_kwarg = depth > 0 and nxt == "=" and not in_header and prev in ("(", ",")
            if prev != "." and not is_kwarg:
                new = mapping[t.string]
        elif i in changed_literals:
            new = mutate_string(t.string, rng) if t.type == tokenize.STRING else mutate_number(t.string, rng)
        elif t.type == tokenize.STRING and "f" in t.string.split(t.string[-1])[0].lower():
            new = rename_in_fstring(t.string, mapping)
        if new is not None and new != t.string:
            edits.append((t.start, t.end, new))
    lines = c["source"].splitlines(keepends=True)
    # apply from the end so earlier positions stay valid
    for (srow, scol), (erow, ecol), new in sorted(edits, reverse=True):
        if srow == erow:
            l = lines[srow - 1]
            lines[srow - 1] = l[:scol] + new + l[ecol:]
        else:  # a multi-line string: replace across its lines, keeping the count
            head = lines[srow - 1][:scol]
            tail = lines[erow - 1][ecol:]
            new_lines = (head + new + tail).splitlines(keepends=True)
            if len(new_lines) != erow - srow + 1:
                raise Skip()
            lines[srow - 1 : erow] = new_lines
    return "".join(lines), mapping


def simple_statements(fn):
    """Single-line simple statements in blocks of two or more, not the first of the function."""
    out = []
    for n in ast.walk(fn):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(n, field, None)
            if not isinstance(block, list) or len(block) < 2:
                continue
            for s in block:
                if (
                    isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr))
                    and s.lineno == s.end_lineno
                    and s.lineno > fn.body[0].lineno
                    and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                ):
                    out.append(s)
    return sorted(out, key=lambda s: s.lineno)


def type3(c, rng, op):
    text, mapping = type2_text(c, rng)
    fn = ast.parse(text).body[0]  # columns moved with the renaming: parse again
    stmts = simple_statements(fn)
    if not stmts:
        raise Skip()
    s = rng.choice(stmts)
    lines = text.splitlines(keepends=True)
    line = lines[s.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    local = sorted(mapping.values())
    if op == "insert":
        fresh = rng.choice(WORDS) + "_" + rng.choice(SUFFIXES) + "_extra"
        template = rng.choice(
            ["{v} = None", "{v} = list({x})", "{v} = str({x})", "{v} = len({x}) if {x} else 0"]
        )
        lines.insert(s.lineno - 1, indent + template.format(v=fresh, x=rng.choice(local)) + "\n")
        what = "statement inserted"
    elif op == "delete":
        del lines[s.lineno - 1]
        what = "statement deleted"
    else:
        value = getattr(s, "value", None)
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and value is not None:
            raw = line.encode("utf-8")
            head = raw[: value.col_offset].decode("utf-8")
            new_value = rng.choice(["None", "{{}}", "[]", "{x} or None", "dict({x})", "str({x})"])
            lines[s.lineno - 1] = head + new_value.format(x=rng.choice(local)) + "\n"
        else:
            lines[s.lineno - 1] = indent + "if " + rng.choice(local) + " is not None: " + line.lstrip()
        what = "statement changed"
    return "".join(lines), what


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dest")
    ap.add_argument("truth")
    ap.add_argument("--count", type=int, default=150)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--package", default="django", help="directory (under SRC) that originals and copies come from and go to")
    args = ap.parse_args()
    if os.path.exists(args.dest):
        sys.exit(f"inject.py: {args.dest} exists; remove it first")
    rng = random.Random(args.seed)
    cands = candidates(args.src, args.package)
    rng.shuffle(cands)
    files = sorted({c["file"] for c in cands})
    if len(cands) < args.count:
        sys.exit(f"inject.py: only {len(cands)} candidate functions for {args.count} clones")

    shutil.copytree(args.src, args.dest)
    appended = {}  # file -> list of texts appended
    used_origin_files = {}
    truth = []
    ops = ["insert", "delete", "change"]
    ci = 0
    for k in range(args.count):
        kind = 1 + k % 3
        while True:
            if ci >= len(cands):
                sys.exit(f"inject.py: ran out of candidates after {len(truth)} clones")
            c = cands[ci]
            ci += 1
            if used_origin_files.get(c["file"], 0) >= 2:
                continue
            try:
                if kind == 1:
                    text, what = type1(c, rng)
                elif kind == 2:
                    text, mapping = type2_text(c, rng)
                    what = "%d names renamed, literals changed" % len(mapping)
                else:
                    op = ops[(k // 3) % 3]
                    text, what = type3(c, rng, op)
                    what = "renamed, literals changed, " + what
                ast.parse(text)
            except (Skip, SyntaxError, tokenize.TokenError, IndentationError, ValueError):
                continue
            if text == c["source"]:
                continue
            targets = [
                f
                for f in files
                if f != c["file"] and len(appended.get(f, [])) < MAX_COPIES_PER_FILE
            ]
            target = rng.choice(targets)
            break
        used_origin_files[c["file"]] = used_origin_files.get(c["file"], 0) + 1
        appended.setdefault(target, []).append((k, kind, what, c, text))

    for target in sorted(appended):
        path = os.path.join(args.dest, target)
        body = read(path)
        if not body.endswith("\n"):
            body += "\n"
        for k, kind, what, c, text in appended[target]:
            body += "\n\n"
            start = body.count("\n") + 1
            body += text
            end = start + text.count("\n") - 1
            truth.append(
                {
                    "id": k + 1,
                    "type": kind,
                    "mutation": what,
                    "name": c["name"],
                    "original": {"file": c["file"], "start": c["start"], "end": c["end"]},
                    "copy": {"file": target, "start": start, "end": end},
                }
            )
        ast.parse(body, filename=path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        # the copy's lines really are where the truth says
        lines = body.splitlines()
        for t in truth:
            if t["copy"]["file"] == target:
                assert lines[t["copy"]["start"] - 1].lstrip().startswith(("def ", "async def ")), t

    truth.sort(key=lambda t: t["id"])
    with open(args.truth, "w") as f:
        json.dump(truth, f, indent=1)
    by_type = {1: 0, 2: 0, 3: 0}
    for t in truth:
        by_type[t["type"]] += 1
    print(
        f"inject.py: {len(truth)} clones injected into {len(appended)} files "
        f"(type 1: {by_type[1]}, type 2: {by_type[2]}, type 3: {by_type[3]}) "
        f"from {len(cands)} candidate functions, seed {args.seed}"
    )


if __name__ == "__main__":
    main()
