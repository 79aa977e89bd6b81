// Order history, with a named import.
import { get as httpGet } from 'axios';

export async function orderHistory(customer: string) {
  const page = await httpGet(`/api/customers/${customer}/orders`);
  return page.data.orders.filter((o: { cancelled: boolean }) => !o.cancelled);
}
