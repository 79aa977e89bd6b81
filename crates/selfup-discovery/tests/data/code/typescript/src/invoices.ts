// Invoices: amounts due and the billing address.
import { getId } from './util';
import type { Address, Invoice, Item } from './types';

export function normalizeAddress(address: string): Address {
  let parts: string[] = address.split(',').map((p: string) => p.trim());
  parts = parts.filter((p: string) => p.length > 0);
  const street: string = parts.length > 0 ? parts[0].toLowerCase() : '';
  const city: string = parts.length > 1 ? parts[1].toUpperCase() : '';
  return { street, city, country: 'US' };
}

export class InvoiceService {
  amount(invoice: Invoice): number {
    let due = 0;
    for (const item of invoice.items) {
      due += item.cost * item.count;
    }
    const rebate: number = due > 250 ? due * 0.1 : 0;
    return Math.round((due - rebate) * 100) / 100;
  }

  number(invoice: Invoice): string | null {
    if (invoice.items.length === 0) {
      return null;
    }
    return `INV-${String(getId(invoice)).padStart(6, '0')}`;
  }
}

export function medianPrice(items: Item[]): number {
  const prices: number[] = items.filter((i) => i.active).map((i) => i.price);
  if (prices.length === 0) {
    return 0;
  }
  prices.sort((a, b) => a - b);
  const middle = Math.floor(prices.length / 2);
  if (prices.length % 2 === 1) {
    return prices[middle];
  }
  return (prices[middle - 1] + prices[middle]) / 2;
}
