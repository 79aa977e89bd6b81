import builtins

eval("1 + 1")
exec("x = 1")
code = compile("1", "<string>", "eval")
mod = __import__("os")
builtins.eval("2")
