"""Background jobs: two modules spawn processes (below the frequency)."""
import subprocess


def rebuild_index(path):
    subprocess.run(["indexer", "--rebuild", path], check=True)
