"""User profiles from the accounts service."""
import requests

ACCOUNTS = "https://accounts.example.com"


def fetch_user(user_id):
    response = requests.get(f"{ACCOUNTS}/users/{user_id}", timeout=5)
    response.raise_for_status()
    return response.json()
