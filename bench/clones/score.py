#!/usr/bin/env python3
"""Read each clone detector's output, score it on the injected clones, make the table.

    score.py score --tool LABEL --format selfup|jscpd|pylint --output FILE --root ROOT
                   --corpus NAME --lines N --time FILE [--time FILE ...]
                   [--truth TRUTH.json] [--settings TEXT] [--status TEXT] --result OUT.json
    score.py report RESULTS_DIR [--markdown OUT.md] [--header FILE]

Clones are read as groups of locations (file relative to ROOT, first line, last
line, 1-based inclusive):
  selfup  `patterns[]` of kind CODE_REPETITION, one group per pattern (`locations`);
  jscpd   the JSON reporter's `duplicates[]`, one pair per entry (`firstFile`,
          `secondFile`: `name`, `start`, `end`), for jscpd 4 and 5 alike;
  pylint  `--output-format=json2`, messages `duplicate-code`: "Similar lines in N
          files" then `==module:[a:b]` lines, a 0-based half-open range of lines
          (lines a+1..b); modules are mapped back to files the way pylint names
          them (up through the directories that have an __init__.py).

An injected clone is found when one reported clone has a location covering at
least half of the original's lines and another covering at least half of the
copy's. Besides recall per type, the result keeps the raw counts (jscpd counts
pairs; selfup and pylint count groups), the instances, the distinct duplicated
lines (comparable across pairs and groups), and on the injected corpus how many
reported clones touch an injected copy.
"""

import argparse
import json
import os
import re
import statistics
import sys

OVERLAP = 0.5


def norm_path(name, root):
    root = os.path.abspath(root)
    if os.path.isabs(name):
        return os.path.relpath(name, root)
    name = os.path.normpath(name)
    rel_root = os.path.normpath(os.path.relpath(root))
    if name == rel_root or name.startswith(rel_root + os.sep):
        return os.path.relpath(name, rel_root)
    return name


def parse_selfup(path, root):
    with open(path) as f:
        data = json.load(f)
    groups = []
    for p in data.get("patterns", []):
        if p.get("kind") != "CODE_REPETITION":
            continue
        locs = [
            (norm_path(l["file"], root), int(l["line_start"]), int(l["line_end"]))
            for l in p.get("locations", [])
        ]
        groups.append({"locations": locs, "signal": p.get("signal")})
    meta = {
        k: data.get(k)
        for k in ("files_scanned", "lines", "tokens", "elapsed_ms")
        if k in data
    }
    meta["skipped"] = len(data.get("skipped", []))
    return groups, meta


def parse_jscpd(path, root):
    with open(path) as f:
        data = json.load(f)
    groups = []
    for d in data.get("duplicates", []):
        locs = []
        for side in ("firstFile", "secondFile"):
            s = d[side]
            start = s.get("start", s.get("startLoc", {}).get("line"))
            end = s.get("end", s.get("endLoc", {}).get("line"))
            locs.append((norm_path(s["name"], root), int(start), int(end)))
        groups.append({"locations": locs, "signal": d.get("kind")})
    total = data.get("statistics", {}).get("total", {})
    meta = {"files_scanned": total.get("sources"), "lines": total.get("lines"), "tokens": total.get("tokens")}
    return groups, meta


def pylint_modules(root):
    """module name -> [file], as pylint names modules (parents with __init__.py)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for fn in filenames:
            if not fn.endswith(".py"):
                continue
            parts = [] if fn == "__init__.py" else [fn[:-3]]
            d = dirpath
            while os.path.isfile(os.path.join(d, "__init__.py")) and os.path.abspath(d) != os.path.abspath(root):
                parts.insert(0, os.path.basename(d))
                d = os.path.dirname(d)
            if os.path.abspath(d) == os.path.abspath(root) and os.path.isfile(os.path.join(d, "__init__.py")):
                parts.insert(0, os.path.basename(os.path.abspath(d)))
            mod = ".".join(parts)
            rel = os.path.relpath(os.path.join(dirpath, fn), root)
            out.setdefault(mod, []).append(rel)
            if fn == "__init__.py":  # pylint's similarity report says pkg.__init__
                out.setdefault(".".join(parts + ["__init__"]), []).append(rel)
    return out


def parse_pylint(path, root):
    with open(path) as f:
        text = f.read()
    start = text.find("{")
    data = json.loads(text[start:]) if start >= 0 else {"messages": []}
    modules = pylint_modules(root)
    groups = []
    unresolved = ambiguous = 0
    errors = 0
    for m in data.get("messages", []):
        if m.get("symbol") != "duplicate-code":
            if m.get("type") in ("error", "fatal"):
                errors += 1
            continue
        locs = []
        for mod, a, b in re.findall(r"^==([\w.]+):\[(\d+):(\d+)\]", m["message"], re.M):
            files = modules.get(mod, [])
            if not files:
                unresolved += 1
                continue
            if len(files) > 1:
                ambiguous += 1
            locs.append((files[0], int(a) + 1, int(b)))
        groups.append({"locations": locs, "signal": None})
    meta = {
        "files_scanned": data.get("statistics", {}).get("modulesLinted"),
        "unresolved_modules": unresolved,
        "ambiguous_modules": ambiguous,
        "skipped": errors,
    }
    return groups, meta


PARSERS = {"selfup": parse_selfup, "jscpd": parse_jscpd, "pylint": parse_pylint}


def covers(loc, rng):
    f, a, b = loc
    if f != rng["file"]:
        return False
    inter = min(b, rng["end"]) - max(a, rng["start"]) + 1
    return inter >= OVERLAP * (rng["end"] - rng["start"] + 1)


def touches(loc, rng):
    f, a, b = loc
    return f == rng["file"] and min(b, rng["end"]) >= max(a, rng["start"])


def score_truth(groups, truth):
    found = {1: 0, 2: 0, 3: 0}
    total = {1: 0, 2: 0, 3: 0}
    missed = []
    by_file = {}
    for g in groups:
        for loc in g["locations"]:
            by_file.setdefault(loc[0], []).append(g)
    for t in truth:
        total[t["type"]] += 1
        hit = False
        for g in by_file.get(t["copy"]["file"], []):
            locs = g["locations"]
            if any(covers(l, t["copy"]) for l in locs) and any(covers(l, t["original"]) for l in locs):
                hit = True
                break
        if hit:
            found[t["type"]] += 1
        else:
            missed.append(t["id"])
    touching = 0
    for g in groups:
        if any(touches(l, t["copy"]) for l in g["locations"] for t in truth):
            touching += 1
    return {
        "found": found,
        "total": total,
        "recall": {str(k): found[k] / total[k] if total[k] else None for k in total},
        "recall_all": sum(found.values()) / max(1, sum(total.values())),
        "missed_ids": missed,
        "clones_touching_injected": touching,
        "clones_not_touching_injected": len(groups) - touching,
    }


def read_time(path):
    """/usr/bin/time -f '%e %U %S %M' output; a first line may say the exit status."""
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    status = 0
    for l in lines:
        m = re.match(r"Command (?:exited with non-zero status|terminated by signal) (\d+)", l)
        if m:
            status = int(m.group(1))
    nums = [l for l in lines if re.match(r"^[\d.]+ [\d.]+ [\d.]+ \d+$", l)]
    if not nums:
        return None
    e, u, s, m = nums[-1].split()
    return {"wall": float(e), "cpu": float(u) + float(s), "rss_mb": int(m) / 1024, "status": status}


def cmd_score(a):
    times = [t for t in (read_time(p) for p in a.time if os.path.exists(p)) if t]
    result = {
        "tool": a.tool,
        "corpus": a.corpus,
        "lines": a.lines,
        "settings": a.settings,
        "status": a.status or "ok",
        "runs": times,
    }
    if times:
        walls = sorted(times, key=lambda t: t["wall"])
        med = walls[len(walls) // 2]
        result.update(wall=med["wall"], cpu=med["cpu"], rss_mb=max(t["rss_mb"] for t in times))
    if a.output and os.path.exists(a.output) and os.path.getsize(a.output) > 0:
        try:
            groups, meta = PARSERS[a.format](a.output, a.root)
        except (ValueError, KeyError) as e:
            result["status"] = f"output not understood: {e}"
            groups, meta = None, {}
        if groups is not None:
            result["meta"] = meta
            result["clones"] = len(groups)
            result["instances"] = sum(len(g["locations"]) for g in groups)
            covered = set()
            for g in groups:
                for f, s, e in g["locations"]:
                    covered.update((f, i) for i in range(s, e + 1))
            result["duplicated_lines"] = len(covered)
            signals = {}
            for g in groups:
                if g["signal"]:
                    signals[g["signal"]] = signals.get(g["signal"], 0) + 1
            result["signals"] = signals
            if a.truth:
                with open(a.truth) as f:
                    result["truth"] = score_truth(groups, json.load(f))
    elif result["status"] == "ok":
        result["status"] = "no output"
    with open(a.result, "w") as f:
        json.dump(result, f, indent=1)
    print(summary_line(result))


def pct(x):
    return "–" if x is None else f"{100 * x:.0f} %"


def summary_line(r):
    rec = ""
    if "truth" in r:
        t = r["truth"]
        rec = " recall " + "/".join(pct(t["recall"][k]) for k in ("1", "2", "3")) + f" all {pct(t['recall_all'])}"
    return (
        f"{r['tool']:<22} {r['corpus']:<16} wall {r.get('wall', float('nan')):7.2f} s "
        f"cpu {r.get('cpu', float('nan')):7.2f} s peak {r.get('rss_mb', float('nan')):7.0f} MB "
        f"clones {r.get('clones', '–')}{rec} [{r['status']}]"
    )


CORPUS_ORDER = {"django": 0, "django-injected": 1, "million": 2}
TOOL_ORDER = ["selfup", "jscpd5 exact", "jscpd5 renamed", "jscpd5 near-miss", "jscpd4", "pylint"]


def tool_rank(tool):
    return TOOL_ORDER.index(tool) if tool in TOOL_ORDER else len(TOOL_ORDER)


def fmt(x, spec):
    return "–" if x is None else format(x, spec)


def goal_lines(results):
    """At least 2x faster than jscpd 5 on Django, higher recall on types 2 and 3, 1 M lines in < 3 s."""
    get = {(r["tool"], r["corpus"]): r for r in results if r["status"] == "ok"}
    out = []
    s = get.get(("selfup", "django"))
    if s and s.get("wall"):
        for mode in ("exact", "renamed"):
            j = get.get((f"jscpd5 {mode}", "django"))
            if j and j.get("wall"):
                speed = j["wall"] / s["wall"]
                out.append(
                    f"- 2× faster than jscpd 5 ({mode}) on Django: {speed:.2f}× "
                    f"({s['wall']:.2f} s against {j['wall']:.2f} s) — {'met' if speed >= 2 else 'not met'}"
                )
    s = get.get(("selfup", "django-injected"))
    if s and "truth" in s:
        for k, name in (("2", "renamed (type 2)"), ("3", "near-miss (type 3)")):
            best = max(
                (r for (tool, c), r in get.items() if tool.startswith("jscpd5") and c == "django-injected" and "truth" in r),
                key=lambda r: r["truth"]["found"][k],
                default=None,
            )
            if best:
                a, b = s["truth"]["found"][k], best["truth"]["found"][k]
                n = s["truth"]["total"][k]
                out.append(
                    f"- higher recall than jscpd 5 on injected {name} clones: {a}/{n} against {b}/{n} "
                    f"({best['tool']}, its best) — {'met' if a > b else 'not met'}"
                )
    s = get.get(("selfup", "million"))
    if s and s.get("wall"):
        out.append(
            f"- {s['lines']:,} lines in under 3 s: {s['wall']:.2f} s — {'met' if s['wall'] < 3 else 'not met'}"
        )
    return out


def cmd_report(a):
    results = []
    for fn in sorted(os.listdir(a.dir)):
        if fn.endswith(".result.json"):
            with open(os.path.join(a.dir, fn)) as f:
                results.append(json.load(f))
    results.sort(key=lambda r: (CORPUS_ORDER.get(r["corpus"], 9), tool_rank(r["tool"]), r["tool"]))
    out = []
    if a.header and os.path.exists(a.header):
        with open(a.header) as f:
            out.append(f.read().rstrip() + "\n")
    out.append(
        "| tool | corpus | lines | wall s | CPU s | peak MB | clones found | instances | dup. lines "
        "| recall T1 | recall T2 | recall T3 | recall all | clones touching injected / not |"
    )
    out.append("|" + "---|" * 14)
    for r in results:
        t = r.get("truth")
        status = "" if r["status"] == "ok" else f" ({r['status']})"
        out.append(
            "| {tool}{status} | {corpus} | {lines} | {wall} | {cpu} | {rss} | {clones} | {inst} | {dup} | {r1} | {r2} | {r3} | {ra} | {touch} |".format(
                tool=r["tool"],
                status=status,
                corpus=r["corpus"],
                lines=f"{r['lines']:,}" if r.get("lines") else "–",
                wall=fmt(r.get("wall"), ".2f"),
                cpu=fmt(r.get("cpu"), ".2f"),
                rss=fmt(r.get("rss_mb"), ".0f"),
                clones=fmt(r.get("clones"), ","),
                inst=fmt(r.get("instances"), ","),
                dup=fmt(r.get("duplicated_lines"), ","),
                r1=f"{t['found']['1']}/{t['total']['1']}" if t else "–",
                r2=f"{t['found']['2']}/{t['total']['2']}" if t else "–",
                r3=f"{t['found']['3']}/{t['total']['3']}" if t else "–",
                ra=pct(t["recall_all"]) if t else "–",
                touch=f"{t['clones_touching_injected']} / {t['clones_not_touching_injected']}" if t else "–",
            )
        )
    # ratios of wall time, selfup to each anchor, corpus by corpus
    selfup = {r["corpus"]: r for r in results if r["tool"].startswith("selfup") and r.get("wall")}
    lines = []
    for corpus, s in sorted(selfup.items(), key=lambda kv: CORPUS_ORDER.get(kv[0], 9)):
        for r in results:
            if r["corpus"] != corpus or r["tool"].startswith("selfup") or not r.get("wall"):
                continue
            if r["status"] != "ok":
                continue
            ratio = s["wall"] / r["wall"]
            speed = r["wall"] / s["wall"]
            verdict = f"{speed:.1f}× faster" if speed >= 1 else f"{1 / speed:.1f}× slower"
            lines.append(f"| {corpus} | {r['tool']} | {s['wall']:.2f} / {r['wall']:.2f} = **{ratio:.2f}** | {verdict} |")
    if lines:
        out.append("")
        out.append("Wall time, selfup to each anchor (below 1: selfup is faster):")
        out.append("")
        out.append("| corpus | anchor | selfup / anchor wall | selfup is |")
        out.append("|---|---|---|---|")
        out.extend(lines)
    else:
        out.append("")
        out.append("No selfup run in these results: no ratios.")
    goals = goal_lines(results)
    if goals:
        out.append("")
        out.append("The goals of issue 6:")
        out.append("")
        out.extend(goals)
    notes = [r for r in results if r.get("meta", {}).get("skipped")]
    if notes:
        out.append("")
        out.append(
            "Files reported as skipped or unparsable: "
            + "; ".join(f"{r['tool']} on {r['corpus']}: {r['meta']['skipped']}" for r in notes)
            + "."
        )
    settings = {}
    for r in results:
        settings.setdefault(r["tool"], {}).setdefault(r["settings"], []).append(r["corpus"])
    out.append("")
    out.append("Settings:")
    for tool in sorted(settings, key=lambda t: (tool_rank(t), t)):
        for setting, corpora in settings[tool].items():
            out.append(f"- {tool} ({', '.join(corpora)}): `{setting}`")
    text = "\n".join(out) + "\n"
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)
    sys.stdout.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score")
    s.add_argument("--tool", required=True)
    s.add_argument("--format", required=True, choices=sorted(PARSERS))
    s.add_argument("--output")
    s.add_argument("--root", required=True)
    s.add_argument("--corpus", required=True)
    s.add_argument("--lines", type=int)
    s.add_argument("--time", action="append", default=[])
    s.add_argument("--truth")
    s.add_argument("--settings", default="")
    s.add_argument("--status", default="")
    s.add_argument("--result", required=True)
    r = sub.add_parser("report")
    r.add_argument("dir")
    r.add_argument("--markdown")
    r.add_argument("--header")
    a = ap.parse_args()
    {"score": cmd_score, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
