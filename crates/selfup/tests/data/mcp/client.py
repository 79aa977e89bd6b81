"""An MCP client built on the official Python SDK (`mcp` from PyPI), for
crates/selfup/tests/mcp.rs.

    client.py call http URL
    client.py call stdio SELFUP_BINARY HOME
        list the tools, call text.stats with _meta.subject "mcp-alice" (and
        once with a bad input), json.query for 20 subjects twice if it is
        there, and print {"protocol", "tools", "call", "failed_call",
        "versions"} as JSON.
    client.py watch URL legacy|modern
        open a session, list the tools, print "READY", wait (60 s at most)
        for notifications/tools/list_changed -- through the message handler
        after an initialize handshake (legacy), or on a subscriptions/listen
        stream (modern) -- then list again and print {"notified", "tools"}.
"""

import asyncio
import json
import sys

import mcp_types as types
from mcp import Client, StdioServerParameters


def tool_json(tool):
    return {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}


async def call(client):
    tools = await client.list_tools()
    result = await client.call_tool("text.stats", {"text": "Hello world. Bye."}, meta={"subject": "mcp-alice"})
    failed = await client.call_tool("text.stats", {"txt": 1})
    versions = {}
    if any(t.name == "json.query" for t in tools.tools):
        # Twenty subjects, each called twice: the rollout's sticky split.
        for i in list(range(20)) * 2:
            routed = await client.call_tool(
                "json.query", {"document": {"a": [1, 2]}, "path": "$.a[0]"}, meta={"subject": f"s{i}"}
            )
            versions.setdefault(f"s{i}", []).append((routed.meta or {}).get("selfup/version"))
    return {
        "protocol": client.protocol_version,
        "versions": versions,
        "tools": [tool_json(t) for t in tools.tools],
        "call": {
            "is_error": result.is_error,
            "text": [c.text for c in result.content if c.type == "text"],
            "structured": result.structured_content,
            "meta": result.meta,
        },
        "failed_call": {
            "is_error": failed.is_error,
            "text": [c.text for c in failed.content if c.type == "text"],
        },
    }


def is_tools_changed(message):
    for candidate in (message, getattr(message, "root", None)):
        if isinstance(candidate, types.ToolListChangedNotification):
            return True
        if getattr(candidate, "method", None) == "notifications/tools/list_changed":
            return True
    return False


async def watch(url, mode):
    changed = asyncio.Event()

    async def on_message(message):
        if is_tools_changed(message):
            changed.set()

    if mode == "legacy":
        async with Client(url, mode="legacy", message_handler=on_message) as client:
            before = await client.list_tools()
            print("READY", json.dumps({"protocol": client.protocol_version, "tools": len(before.tools)}), flush=True)
            await asyncio.wait_for(changed.wait(), 60)
            after = await client.list_tools()
    else:
        async with Client(url, cache=None) as client:
            before = await client.list_tools()
            async with client.listen(tools_list_changed=True) as subscription:
                print("READY", json.dumps({"protocol": client.protocol_version, "tools": len(before.tools)}), flush=True)

                async def first_event():
                    async for _event in subscription:
                        return True
                    return False

                await asyncio.wait_for(first_event(), 60)
                changed.set()
            after = await client.list_tools()
    return {"notified": changed.is_set(), "tools": [t.name for t in after.tools]}


async def main(argv):
    if argv[1] == "call" and argv[2] == "http":
        async with Client(argv[3]) as client:
            out = await call(client)
    elif argv[1] == "call" and argv[2] == "stdio":
        server = StdioServerParameters(command=argv[3], args=["--home", argv[4], "mcp"])
        async with Client(server) as client:
            out = await call(client)
    elif argv[1] == "watch":
        out = await watch(argv[2], argv[3])
    else:
        raise SystemExit(f"unknown arguments {argv[1:]}")
    print(json.dumps(out), flush=True)


asyncio.run(main(sys.argv))
