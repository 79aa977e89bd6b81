"""Exchange rates for invoices."""
from requests import get as fetch_url


def exchange_rate(base, quote):
    data = fetch_url("https://rates.example.com/latest", params={"base": base}).json()
    return data["rates"][quote]
