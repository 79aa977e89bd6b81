// Currency rates, fetched with a CommonJS-style require.
const http = require('axios');

export async function rate(base, quote) {
  const reply = await http.get('/api/rates', { params: { base } });
  return reply.data.rates[quote];
}
