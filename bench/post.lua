-- wrk script: POST a trivial capability call, as the agent would.
wrk.method = "POST"
wrk.body = '{"subject":"user-1","input":{"subject":"user-1","text":"hello"}}'
wrk.headers["Content-Type"] = "application/json"
