"""Health of the upstream services."""
import json
import urllib.request


def upstream_status(url):
    with urllib.request.urlopen(url + "/healthz", timeout=3) as resp:
        return json.load(resp)["status"]
