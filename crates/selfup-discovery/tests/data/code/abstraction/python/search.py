"""Product search."""
import httpx


def search_products(query, limit=20):
    hits = httpx.get("https://search.example.com/q", params={"q": query, "n": limit}).json()
    return [hit["sku"] for hit in hits["results"]]


def suggest(prefix):
    return httpx.post("https://search.example.com/suggest", json={"prefix": prefix}).json()
