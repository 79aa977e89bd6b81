// Orders: validation, totals and the shipping label.
import { getId } from './util.js';

export function normalizeAddress(address) {
  let parts = address.split(',').map((p) => p.trim());
  parts = parts.filter((p) => p.length > 0);
  const street = parts.length > 0 ? parts[0].toLowerCase() : '';
  const city = parts.length > 1 ? parts[1].toUpperCase() : '';
  return { street, city, country: 'US' };
}

export function orderTotal(order) {
  let subtotal = 0;
  for (const line of order.lines) {
    subtotal += line.price * line.quantity;
  }
  const discount = subtotal > 100 ? subtotal * 0.05 : 0;
  return Math.round((subtotal - discount) * 100) / 100;
}

export function averagePrice(items) {
  const prices = items.filter((i) => i.active).map((i) => i.price);
  if (prices.length === 0) {
    return 0;
  }
  return prices.reduce((a, b) => a + b, 0) / prices.length;
}

export function shippingLabel(order) {
  if (order.lines.length === 0) {
    throw new Error(`empty order ${getId(order)}`);
  }
  const address = normalizeAddress(order.address);
  return [address.street, address.city, address.country].join('\n');
}
