"""Nightly backup."""
import subprocess


def dump_database(target):
    out = subprocess.check_output(["pg_dump", "--format=c", "shop"])
    with open(target, "wb") as f:
        f.write(out)
