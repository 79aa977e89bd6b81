"""Placing orders with the fulfilment API."""
import requests as rq


def place_order(order):
    payload = {"sku": order.sku, "qty": order.quantity}
    reply = rq.post("https://fulfilment.example.com/orders", json=payload, timeout=10)
    if reply.status_code != 201:
        raise RuntimeError(reply.text)
    return reply.json()["id"]
