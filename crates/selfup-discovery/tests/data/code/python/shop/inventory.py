"""Stock levels and restocking."""


def summarize_stock(rows):
    totals = {}
    for row in rows:
        if row.get("discontinued"):
            continue
        key = row["warehouse"]
        totals[key] = totals.get(key, 0) + row["units"]
    ordered = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    best = ordered[0][0] if ordered else None
    return {"totals": dict(ordered), "best": best, "count": len(rows)}


def restock_plan(records, threshold=10):
    cleaned = []
    for rec in records:
        if rec.get("deleted"):
            continue
        rec["name"] = rec["name"].strip().lower()
        cleaned.append(rec)
    cleaned.sort(key=lambda r: r["name"])
    seen = set()
    unique = [r for r in cleaned if not (r["name"] in seen or seen.add(r["name"]))]
    low = [r for r in unique if r["stock"] < threshold]
    orders = []
    for r in low:
        orders.append({"sku": r["sku"], "qty": threshold * 2 - r["stock"]})
    return orders
