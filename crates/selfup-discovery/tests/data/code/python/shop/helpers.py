"""Copies of the small helpers (below the minimum size: not reported)."""


def get_id(obj):
    return obj["id"]


def total(values):
    s = sum(values)
    return s
