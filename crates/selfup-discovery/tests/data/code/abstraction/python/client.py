"""The project's own client: calls through it are not direct API calls."""
from .http import Client

client = Client()


def load_settings():
    settings = client.get("/settings")
    return dict(settings)
