import os
import subprocess
from subprocess import Popen

subprocess.run(["ls"], check=True)
Popen(["ls"])
runner = os.popen
list(map(os.system, ["ls"]))
getattr(os, "system")("ls")
