// The cart talks to the cart service through axios.
import axios from 'axios';

export async function addToCart(sku, qty) {
  const { data } = await axios.post('/api/cart', { sku, qty });
  return data.items;
}
