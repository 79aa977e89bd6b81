# os.system("rm -rf /") would be bad; so would eval(x) and subprocess.call.
import os
import re

HELP = "call os.system('ls') or eval('1')"
DOC = """subprocess.call(['ls']) and exec('x')"""
PATTERN = re.compile(r"\d+")


def run(cmd, evaluate=False):
    """Never calls os.system(cmd)."""
    print(os.path.join("a", "b"), HELP, DOC, PATTERN, evaluate)
    return cmd.eval()  # a method named eval is not the built-in
