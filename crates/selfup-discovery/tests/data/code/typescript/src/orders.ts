// Orders: validation, totals and the shipping label.
import { getId } from './util';
import type { Address, Item, Order } from './types';

export function normalizeAddress(address: string): Address {
  let parts: string[] = address.split(',').map((p: string) => p.trim());
  parts = parts.filter((p: string) => p.length > 0);
  const street: string = parts.length > 0 ? parts[0].toLowerCase() : '';
  const city: string = parts.length > 1 ? parts[1].toUpperCase() : '';
  return { street, city, country: 'US' };
}

export class OrderService {
  constructor(private readonly currency: string) {}

  total(order: Order): number {
    let subtotal = 0;
    for (const line of order.lines) {
      subtotal += line.price * line.quantity;
    }
    const discount: number = subtotal > 100 ? subtotal * 0.05 : 0;
    return Math.round((subtotal - discount) * 100) / 100;
  }

  label(order: Order): string {
    if (order.lines.length === 0) {
      throw new Error(`empty order ${getId(order)}`);
    }
    const address = normalizeAddress(order.address);
    return [address.street, address.city, address.country, this.currency].join('\n');
  }
}

export function averagePrice(items: Item[]): number {
  const prices: number[] = items.filter((i) => i.active).map((i) => i.price);
  if (prices.length === 0) {
    return 0;
  }
  return prices.reduce((a, b) => a + b, 0) / prices.length;
}
