// eval("comment") and child_process.exec in a comment are not code.
const cp = require("child_process");
const { execSync } = require("node:child_process");
const note = "cp.exec('rm -rf /')";

cp.exec("ls");
execSync("ls");
eval("1 + 1");
const f = new Function("return 1");
require("child_process").spawn("ls");
console.log(note, f, /x/.exec("x"));
