// Stock levels and restocking.
import type { Record, Row, Summary } from './types';

export function summarizeStock(rows: Row[]): Summary {
  const totals = new Map<string, number>();
  for (const row of rows) {
    const key: string = row.warehouse;
    totals.set(key, (totals.get(key) ?? 0) + row.units);
  }
  const ordered = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  console.debug(`stock summary: ${ordered.length} warehouses`);
  const best: string | null = ordered.length > 0 ? ordered[0][0] : null;
  return { totals: Object.fromEntries(ordered), best, count: rows.length };
}

export function restockPlan(records: Record[], threshold = 10) {
  const cleaned: Record[] = [];
  for (const rec of records) {
    if (rec.deleted) {
      continue;
    }
    rec.name = rec.name.trim().toLowerCase();
    cleaned.push(rec);
  }
  cleaned.sort((a: Record, b: Record) => a.name.localeCompare(b.name));
  const seen = new Set<string>();
  const unique = cleaned.filter((r) => !seen.has(r.name) && seen.add(r.name));
  const orders: { sku: string; qty: number }[] = [];
  for (const r of unique) {
    if (r.stock < threshold) {
      orders.push({ sku: r.sku, qty: threshold * 2 - r.stock });
    }
  }
  return orders;
}
