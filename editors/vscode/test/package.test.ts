// Builds the .vsix with `npm run package` and checks what is in it: the
// manifest VS Code reads (activation, settings, commands, main), the bundle,
// and nothing else (no node_modules, sources or tests).

import { spawnSync } from "child_process";
import { strict as assert } from "assert";
import * as fs from "fs";
import { test } from "node:test";
import * as os from "os";
import * as path from "path";

import { readEntry, readZip } from "./zip";

const root = path.resolve(__dirname, "..", "..");

test("npm run package builds a .vsix with the manifest and the bundle only", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "soc2ls-vsix-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, "soc2ls.vsix");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["run", "package", "--", "--out", out], { cwd: root, encoding: "utf8", shell: process.platform === "win32" });
  assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}\n${r.stderr}`);

  const buf = fs.readFileSync(out);
  const entries = readZip(buf);
  const names = entries.map((e) => e.name).sort();
  assert.deepEqual(names, [
    "[Content_Types].xml",
    "extension.vsixmanifest",
    "extension/dist/extension.js",
    "extension/package.json",
    "extension/readme.md",
  ]);
  assert.ok(buf.length < 1024 * 1024, `the .vsix is ${buf.length} bytes`);

  const read = (name: string) => readEntry(buf, entries.find((e) => e.name === name)!).toString("utf8");
  const pkg = JSON.parse(read("extension/package.json"));
  const src = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  assert.equal(pkg.name, "soc2ls");
  assert.equal(pkg.version, src.version);
  assert.equal(pkg.main, "./dist/extension.js");
  assert.match(pkg.engines.vscode, /^\^1\.\d+\.\d+$/);
  // languageclient 9 needs VS Code 1.82; a lower engine would install where it cannot run.
  const [, minor] = /^\^1\.(\d+)/.exec(pkg.engines.vscode)!;
  assert.ok(Number(minor) >= 82, pkg.engines.vscode);
  assert.deepEqual(pkg.activationEvents, ["onLanguage:yaml", "onLanguage:json", "onLanguage:cloudformation"]);

  const commands = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(commands, ["soc2ls.explain", "soc2ls.fixAll", "soc2ls.restartServer", "soc2ls.showOutput"]);
  for (const c of pkg.contributes.commands) assert.ok(c.title && c.category === "soc2ls", c.command);

  const props = pkg.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).sort(), [
    "soc2ls.diagnosticsDelayMs",
    "soc2ls.logLevel",
    "soc2ls.path",
    "soc2ls.rules",
    "soc2ls.trace.server",
  ]);
  const defaults: Record<string, unknown> = {
    "soc2ls.path": "",
    "soc2ls.diagnosticsDelayMs": 30,
    "soc2ls.rules": {},
    "soc2ls.trace.server": "off",
    "soc2ls.logLevel": "info",
  };
  for (const [k, v] of Object.entries(defaults)) {
    assert.deepEqual(props[k].default, v, k);
    assert.ok((props[k].markdownDescription ?? props[k].description ?? "").length > 20, `${k} has a description`);
  }
  assert.deepEqual(props["soc2ls.logLevel"].enum, ["debug", "info", "warn", "error"]);
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ["soc2ls.path"]);

  // The bundle holds languageclient: it needs only vscode and Node's own modules.
  const js = read("extension/dist/extension.js");
  const required = new Set([...js.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
  const builtin = new Set(require("module").builtinModules as string[]);
  for (const m of required) {
    assert.ok(m === "vscode" || builtin.has(m.replace(/^node:/, "")), `the bundle requires ${m}`);
  }
  assert.ok(required.has("vscode"));
  assert.match(js, /soc2ls\.restartServer/);
  assert.match(js, /source\.fixAll\.soc2ls/);

  const manifest = read("extension.vsixmanifest");
  assert.match(manifest, /Id="soc2ls"/);
  assert.match(manifest, /Publisher="soc2ls"/);
});
