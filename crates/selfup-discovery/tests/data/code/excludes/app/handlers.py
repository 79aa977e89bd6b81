"""Request handlers."""


def paginate(items, page, per_page=20):
    if page < 1:
        raise ValueError("pages start at 1")
    start = (page - 1) * per_page
    chunk = items[start:start + per_page]
    return {"items": chunk, "page": page, "more": start + per_page < len(items)}
