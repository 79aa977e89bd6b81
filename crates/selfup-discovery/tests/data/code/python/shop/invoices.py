"""Invoices: amounts due and the billing address."""

from .util import get_id


def normalize_address(address):
    parts = [p.strip() for p in address.split(",")]
    parts = [p for p in parts if p]
    street = parts[0].title() if parts else ""
    city = parts[1].upper() if len(parts) > 1 else ""
    return {"street": street, "city": city, "country": "US"}


def invoice_amount(invoice):
    amount = 0
    for item in invoice["items"]:
        amount += item["cost"] * item["count"]
    rebate = amount * 0.1 if amount > 250 else 0
    return round(amount - rebate, 2)


def median_price(items):
    prices = sorted(i["price"] for i in items if i.get("active"))
    if not prices:
        return 0.0
    middle = len(prices) // 2
    if len(prices) % 2:
        return prices[middle]
    return (prices[middle - 1] + prices[middle]) / 2


def invoice_number(invoice):
    if not invoice["items"]:
        return None
    return "INV-%06d" % get_id(invoice)
