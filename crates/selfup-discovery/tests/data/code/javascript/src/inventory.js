// Stock levels and restocking.

export function summarizeStock(rows) {
  const totals = new Map();
  for (const row of rows) {
    if (row.discontinued) {
      continue;
    }
    const key = row.warehouse;
    totals.set(key, (totals.get(key) || 0) + row.units);
  }
  const ordered = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  const best = ordered.length > 0 ? ordered[0][0] : null;
  return { totals: Object.fromEntries(ordered), best, count: rows.length };
}

export function restockPlan(records, threshold = 10) {
  const cleaned = [];
  for (const rec of records) {
    if (rec.deleted) {
      continue;
    }
    rec.name = rec.name.trim().toLowerCase();
    cleaned.push(rec);
  }
  cleaned.sort((a, b) => a.name.localeCompare(b.name));
  const seen = new Set();
  const unique = cleaned.filter((r) => !seen.has(r.name) && seen.add(r.name));
  const orders = [];
  for (const r of unique) {
    if (r.stock < threshold) {
      orders.push({ sku: r.sku, qty: threshold * 2 - r.stock });
    }
  }
  return orders;
}
