// Price formatting on the server (copied from the browser bundle).

export function formatPrice(amount, currency) {
  const rounded = Math.round(amount * 100) / 100;
  const [whole, cents = '00'] = String(rounded).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${currency} ${grouped}.${cents.padEnd(2, '0')}`;
}

export function parsePrice(text: string): number {
  const cleaned = text.replace(/[^0-9.]/g, '');
  const value = Number.parseFloat(cleaned);
  return Number.isNaN(value) ? 0 : value;
}
