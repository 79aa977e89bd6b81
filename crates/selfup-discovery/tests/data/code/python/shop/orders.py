"""Orders: validation, totals and the shipping label."""

from .util import get_id


def normalize_address(address):
    parts = [p.strip() for p in address.split(",")]
    parts = [p for p in parts if p]
    street = parts[0].title() if parts else ""
    city = parts[1].upper() if len(parts) > 1 else ""
    return {"street": street, "city": city, "country": "US"}


def order_total(order):
    subtotal = 0
    for line in order["lines"]:
        subtotal += line["price"] * line["quantity"]
    discount = subtotal * 0.05 if subtotal > 100 else 0
    return round(subtotal - discount, 2)


def average_price(items):
    prices = [i["price"] for i in items if i.get("active")]
    if not prices:
        return 0.0
    return sum(prices) / len(prices)


def shipping_label(order):
    if not order["lines"]:
        raise ValueError("empty order %s" % get_id(order))
    address = normalize_address(order["address"])
    return "{street}\n{city}\n{country}".format(**address)
