import { strict as assert } from "assert";
import * as fs from "fs";
import { test } from "node:test";
import * as os from "os";
import * as path from "path";

import { DiscoveryInput, findBinary, INSTALL_COMMAND, isExecutableFile, missingMessage } from "../src/discovery";

// machine builds a DiscoveryInput over a fake file system: the set of
// executable files.
function machine(files: string[], over: Partial<DiscoveryInput> = {}): DiscoveryInput & { asked: string[] } {
  const asked: string[] = [];
  const exe = new Set(files);
  return {
    env: {},
    platform: "linux",
    homedir: "/home/u",
    isExecutable: (p) => {
      asked.push(p);
      return exe.has(p);
    },
    asked,
    ...over,
  };
}

test("PATH comes first, in PATH order", () => {
  const m = machine(["/opt/b/soc2ls", "/usr/bin/soc2ls", "/home/u/go/bin/soc2ls"], {
    env: { PATH: "/opt/a:/opt/b:/usr/bin" },
  });
  assert.deepEqual(findBinary(m), { kind: "found", path: "/opt/b/soc2ls", source: "PATH" });
  assert.deepEqual(m.asked, ["/opt/a/soc2ls", "/opt/b/soc2ls"]);
});

test("relative and empty PATH entries are skipped", () => {
  const m = machine(["bin/soc2ls", "/home/u/go/bin/soc2ls"], { env: { PATH: "bin::." } });
  assert.deepEqual(findBinary(m), { kind: "found", path: "/home/u/go/bin/soc2ls", source: "home" });
  assert.ok(!m.asked.includes("bin/soc2ls"));
});

test("GOPATH/bin before ~/go/bin, every GOPATH entry", () => {
  const m = machine(["/gp2/bin/soc2ls", "/home/u/go/bin/soc2ls"], {
    env: { PATH: "/usr/bin", GOPATH: "/gp1:/gp2" },
  });
  assert.deepEqual(findBinary(m), { kind: "found", path: "/gp2/bin/soc2ls", source: "GOPATH" });
  assert.deepEqual(m.asked, ["/usr/bin/soc2ls", "/gp1/bin/soc2ls", "/gp2/bin/soc2ls"]);
});

test("~/go/bin when GOPATH is unset", () => {
  const m = machine(["/home/u/go/bin/soc2ls"], { env: { PATH: "/usr/bin" } });
  assert.deepEqual(findBinary(m), { kind: "found", path: "/home/u/go/bin/soc2ls", source: "home" });
});

test("the same directory is asked once", () => {
  const m = machine([], { env: { PATH: "/home/u/go/bin:/usr/bin", GOPATH: "/home/u/go" } });
  const d = findBinary(m);
  assert.equal(d.kind, "missing");
  assert.deepEqual(m.asked, ["/home/u/go/bin/soc2ls", "/usr/bin/soc2ls"]);
  if (d.kind === "missing") {
    assert.deepEqual(d.searched, m.asked);
    assert.equal(d.configured, undefined);
    assert.ok(missingMessage(d).includes(INSTALL_COMMAND));
  }
});

test("soc2ls.path wins, with ~ and ${workspaceFolder} expanded, relative to the workspace", () => {
  const files = ["/usr/bin/soc2ls", "/home/u/tools/soc2ls", "/ws/bin/soc2ls"];
  for (const [configured, want] of [
    ["~/tools/soc2ls", "/home/u/tools/soc2ls"],
    ["${userHome}/tools/soc2ls", "/home/u/tools/soc2ls"],
    ["${workspaceFolder}/bin/soc2ls", "/ws/bin/soc2ls"],
    ["bin/soc2ls", "/ws/bin/soc2ls"],
    ["  /usr/bin/soc2ls  ", "/usr/bin/soc2ls"],
  ]) {
    const m = machine(files, { configured, workspaceFolder: "/ws", env: { PATH: "/usr/bin" } });
    assert.deepEqual(findBinary(m), { kind: "found", path: want, source: "setting" }, configured);
  }
});

test("a soc2ls.path that does not exist is missing, with no fallback to PATH", () => {
  const m = machine(["/usr/bin/soc2ls"], { configured: "/nope/soc2ls", env: { PATH: "/usr/bin" } });
  const d = findBinary(m);
  assert.deepEqual(d, { kind: "missing", searched: ["/nope/soc2ls"], configured: "/nope/soc2ls" });
  assert.deepEqual(m.asked, ["/nope/soc2ls"]);
  if (d.kind === "missing") {
    const msg = missingMessage(d);
    assert.ok(msg.includes("/nope/soc2ls") && msg.includes("soc2ls.path") && msg.includes(INSTALL_COMMAND), msg);
  }
});

test("a blank soc2ls.path searches", () => {
  const m = machine(["/usr/bin/soc2ls"], { configured: "   ", env: { PATH: "/usr/bin" } });
  assert.deepEqual(findBinary(m), { kind: "found", path: "/usr/bin/soc2ls", source: "PATH" });
});

test("Windows: Path in any case, ; separators, PATHEXT suffixes", () => {
  const m = machine(["C:\\Users\\u\\go\\bin\\soc2ls.exe"], {
    platform: "win32",
    homedir: "C:\\Users\\u",
    env: { Path: "C:\\Windows;\"C:\\Program Files\\x\"", PATHEXT: ".COM;.EXE" },
  });
  assert.deepEqual(findBinary(m), { kind: "found", path: "C:\\Users\\u\\go\\bin\\soc2ls.exe", source: "home" });
  assert.deepEqual(m.asked.slice(0, 4), [
    "C:\\Windows\\soc2ls.com",
    "C:\\Windows\\soc2ls.exe",
    "C:\\Program Files\\x\\soc2ls.com",
    "C:\\Program Files\\x\\soc2ls.exe",
  ]);
});

test("Windows: a configured path with an extension is taken as it is", () => {
  const m = machine(["D:\\bin\\soc2ls.exe"], { platform: "win32", homedir: "C:\\Users\\u", configured: "D:\\bin\\soc2ls.exe" });
  assert.deepEqual(findBinary(m), { kind: "found", path: "D:\\bin\\soc2ls.exe", source: "setting" });
  const m2 = machine(["D:\\bin\\soc2ls.exe"], { platform: "win32", homedir: "C:\\Users\\u", configured: "D:\\bin\\soc2ls" });
  assert.deepEqual(findBinary(m2), { kind: "found", path: "D:\\bin\\soc2ls.exe", source: "setting" });
});

test("isExecutableFile: an executable file yes; a plain file, a directory, nothing: no", (t) => {
  if (process.platform === "win32") {
    t.skip("no execute bit on Windows");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "soc2ls-disc-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const exe = path.join(dir, "soc2ls");
  fs.writeFileSync(exe, "#!/bin/sh\n", { mode: 0o755 });
  const plain = path.join(dir, "plain");
  fs.writeFileSync(plain, "", { mode: 0o644 });
  const link = path.join(dir, "link");
  fs.symlinkSync(exe, link);
  assert.equal(isExecutableFile(exe), true);
  assert.equal(isExecutableFile(link), true);
  assert.equal(isExecutableFile(dir), false);
  assert.equal(isExecutableFile(path.join(dir, "absent")), false);
  // access(2) grants root execution only when some x bit is set, so this
  // holds for root too.
  assert.equal(isExecutableFile(plain), false);

  // And through findBinary, as the extension calls it.
  const d = findBinary({ env: { PATH: dir }, platform: process.platform, homedir: "", isExecutable: isExecutableFile });
  assert.deepEqual(d, { kind: "found", path: exe, source: "PATH" });
});
