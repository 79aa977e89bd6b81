"""A small MCP server over stdio (the official MCP Python SDK) that the
process-plugin test packages in two versions: the test replaces VERSION.

Tools: greet_hello (version 1 and 2 answer differently), greet_sleep (for
the per-call timeout) and greet_probe (reports the limits it runs under and
whether it can write inside and outside its allowed paths).
"""

import os
import resource
import time

from mcp.server.mcpserver import MCPServer

VERSION = "@VERSION@"

app = MCPServer("greet")


@app.tool(name="greet_hello")
def hello(name: str) -> dict:
    """Greets someone."""
    if VERSION == "1":
        greeting = "hello " + name
    else:
        greeting = "Hello, " + name + "!"
    return {"greeting": greeting, "version": VERSION, "pid": os.getpid()}


@app.tool(name="greet_sleep")
def sleep(seconds: float) -> dict:
    """Sleeps."""
    time.sleep(seconds)
    return {"slept": seconds}


def can_write(directory: str) -> str:
    path = os.path.join(directory, "probe-%d.txt" % os.getpid())
    try:
        with open(path, "w") as f:
            f.write("probe")
        os.remove(path)
        return "ok"
    except OSError as e:
        return type(e).__name__


def no_new_privs() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("NoNewPrivs:"):
                return int(line.split()[1])
    return -1


@app.tool(name="greet_probe")
def probe(outside: str) -> dict:
    """Reports the limits this process runs under."""
    return {
        "address_space": resource.getrlimit(resource.RLIMIT_AS)[0],
        "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
        "open_files": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "no_new_privs": no_new_privs(),
        "env": sorted(os.environ.keys()),
        "cwd": os.getcwd(),
        "write_home": can_write(os.environ["HOME"]),
        "write_outside": can_write(outside),
    }


if __name__ == "__main__":
    app.run()
