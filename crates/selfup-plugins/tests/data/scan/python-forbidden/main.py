"""Calls forbidden names directly and through aliases."""
import os
import subprocess as sp
from os import system

os.system("ls")
sp.call(["ls"])
system("ls")
