// Search-as-you-type.
export async function searchProducts(query: string): Promise<string[]> {
  const response = await fetch(`/api/search?q=${encodeURIComponent(query)}`);
  const body: { results: { sku: string }[] } = await response.json();
  return body.results.map((r) => r.sku);
}
