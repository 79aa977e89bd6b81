// Invoices: amounts due and the billing address.
import { getId } from './util.js';

export function normalizeAddress(address) {
  let parts = address.split(',').map((p) => p.trim());
  parts = parts.filter((p) => p.length > 0);
  const street = parts.length > 0 ? parts[0].toLowerCase() : '';
  const city = parts.length > 1 ? parts[1].toUpperCase() : '';
  return { street, city, country: 'US' };
}

export function invoiceAmount(invoice) {
  let amount = 0;
  for (const item of invoice.items) {
    amount += item.cost * item.count;
  }
  const rebate = amount > 250 ? amount * 0.1 : 0;
  return Math.round((amount - rebate) * 100) / 100;
}

export function medianPrice(items) {
  const prices = items.filter((i) => i.active).map((i) => i.price);
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

export function invoiceNumber(invoice) {
  if (invoice.items.length === 0) {
    return null;
  }
  return `INV-${String(getId(invoice)).padStart(6, '0')}`;
}
