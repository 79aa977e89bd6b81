"""Sales reports."""


def summarize_sales(rows):
    totals = {}
    for row in rows:
        key = row["region"]
        totals[key] = totals.get(key, 0) + row["amount"]
    ordered = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    best = ordered[0][0] if ordered else None
    return {"totals": dict(ordered), "best": best, "count": len(rows)}


def monthly_report(records, month):
    header = "Report for %s" % month
    print(header)
    cleaned = []
    for rec in records:
        if rec.get("deleted"):
            continue
        rec["name"] = rec["name"].strip().lower()
        cleaned.append(rec)
    cleaned.sort(key=lambda r: r["name"])
    seen = set()
    unique = [r for r in cleaned if not (r["name"] in seen or seen.add(r["name"]))]
    by_month = [r for r in unique if r["month"] == month]
    return {"title": header, "rows": by_month, "total": sum(r["value"] for r in by_month)}
