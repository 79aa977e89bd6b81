// Sales reports.
import type { Row, Record, Summary } from './types';

export function summarizeSales(rows: Row[]): Summary {
  const totals = new Map<string, number>();
  for (const row of rows) {
    const key: string = row.region;
    totals.set(key, (totals.get(key) ?? 0) + row.amount);
  }
  const ordered = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  const best: string | null = ordered.length > 0 ? ordered[0][0] : null;
  return { totals: Object.fromEntries(ordered), best, count: rows.length };
}

export function monthlyReport(records: Record[], month: number) {
  const header = `Report for ${month}`;
  console.log(header);
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
  const byMonth = unique.filter((r) => r.month === month);
  return { title: header, rows: byMonth, total: byMonth.reduce((s, r) => s + r.value, 0) };
}
