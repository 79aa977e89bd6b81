// The price badge component, with its own copy of the formatter.

export function formatPrice(amount, currency) {
  const rounded = Math.round(amount * 100) / 100;
  const [whole, cents = '00'] = String(rounded).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${currency} ${grouped}.${cents.padEnd(2, '0')}`;
}

export function PriceBadge({ amount, currency }: { amount: number; currency: string }) {
  return <span className="price">{formatPrice(amount, currency)}</span>;
}
