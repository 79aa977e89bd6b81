import { exec as run } from "child_process";
import * as vm from "vm";
import cp = require("child_process");

export function go(cmd: string): void {
  run(cmd);
  vm.runInNewContext(cmd);
  cp.fork("worker.js");
  (0, eval)(cmd);
}
