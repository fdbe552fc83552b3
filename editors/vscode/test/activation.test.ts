// Loads the bundled extension with a stand-in for the `vscode` module and
// checks what a user without the soc2ls binary sees: one notification with
// the install command, a status bar item on YAML and JSON only, commands
// that answer instead of failing, and no client started. (A real VS Code is
// not downloaded; the parts of the API used here are small and faked
// faithfully enough: configuration, commands, notifications, status bar.)

import { strict as assert } from "assert";
import * as fs from "fs";
import { test } from "node:test";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");

type Listener<T> = (e: T) => void;
class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T) {
    for (const l of [...this.listeners]) l(e);
  }
  dispose() {
    this.listeners = [];
  }
}

interface Doc {
  uri: { scheme: string; toString(): string };
  languageId: string;
}

function fakeVSCode() {
  const settings: Record<string, unknown> = { path: "", diagnosticsDelayMs: 30, rules: {}, logLevel: "info" };
  const commands = new Map<string, (...a: unknown[]) => unknown>();
  const executed: unknown[][] = [];
  const warnings: { message: string; items: string[] }[] = [];
  const infos: string[] = [];
  const output: string[] = [];
  let answer: string | undefined;
  const status = { text: "", tooltip: "", visible: false, command: "", name: "" };
  const configChanged = new EventEmitter<{ affectsConfiguration(s: string): boolean }>();
  const editorChanged = new EventEmitter<unknown>();
  const diagnosticsChanged = new EventEmitter<unknown>();
  let clipboard = "";
  const window = {
    activeTextEditor: undefined as { document: Doc } | undefined,
    createOutputChannel: () => ({ appendLine: (l: string) => output.push(l), show: () => executed.push(["output.show"]), dispose() {} }),
    createStatusBarItem: () =>
      Object.assign(status, {
        show: () => (status.visible = true),
        hide: () => (status.visible = false),
        dispose() {},
      }),
    showWarningMessage: async (message: string, ...items: string[]) => {
      warnings.push({ message, items });
      return answer;
    },
    showErrorMessage: async (message: string, ...items: string[]) => {
      warnings.push({ message, items });
      return undefined;
    },
    showInformationMessage: async (message: string) => {
      infos.push(message);
      return undefined;
    },
    onDidChangeActiveTextEditor: editorChanged.event,
  };
  // languageclient subclasses these when it is loaded.
  const classes = Object.fromEntries(
    ["CompletionItem", "CodeLens", "DocumentLink", "CodeAction", "Diagnostic", "CallHierarchyItem",
      "TypeHierarchyItem", "SymbolInformation", "InlayHint", "CancellationError"].map((n) => [n, class {}]),
  );
  const vscode = {
    ...classes,
    EventEmitter,
    StatusBarAlignment: { Left: 1, Right: 2 },
    window,
    commands: {
      registerCommand: (id: string, f: (...a: unknown[]) => unknown) => {
        assert.ok(!commands.has(id), `${id} registered twice`);
        commands.set(id, f);
        return { dispose: () => commands.delete(id) };
      },
      executeCommand: async (id: string, ...args: unknown[]) => {
        executed.push([id, ...args]);
        return commands.get(id)?.(...args);
      },
    },
    workspace: {
      workspaceFolders: undefined,
      getConfiguration: (section: string) => {
        assert.equal(section, "soc2ls");
        return { get: (k: string) => settings[k] };
      },
      onDidChangeConfiguration: configChanged.event,
      onDidCloseTextDocument: new EventEmitter<unknown>().event,
      registerTextDocumentContentProvider: () => ({ dispose() {} }),
    },
    languages: {
      onDidChangeDiagnostics: diagnosticsChanged.event,
      getDiagnostics: () => [],
      match: (selector: { scheme?: string; language?: string }[], d: Doc) =>
        selector.some((s) => (!s.scheme || s.scheme === d.uri.scheme) && (!s.language || s.language === d.languageId)) ? 10 : 0,
    },
    env: { clipboard: { writeText: async (s: string) => void (clipboard = s) } },
  };
  return {
    vscode,
    settings,
    commands,
    executed,
    warnings,
    infos,
    output,
    status,
    clipboard: () => clipboard,
    answer: (a: string | undefined) => (answer = a),
    changeSetting(key: string, value: unknown) {
      settings[key] = value;
      configChanged.fire({ affectsConfiguration: (s) => s === "soc2ls" || s === `soc2ls.${key}` });
    },
    openEditor(scheme: string, languageId: string) {
      window.activeTextEditor = { document: { uri: { scheme, toString: () => `${scheme}:/x` }, languageId } };
      editorChanged.fire(window.activeTextEditor);
    },
  };
}

// load bundles src/extension.ts as the package does and loads it with the
// fake in place of `vscode`.
function load(fake: ReturnType<typeof fakeVSCode>, dir: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild");
  const out = path.join(dir, "extension.js");
  esbuild.buildSync({
    entryPoints: [path.join(root, "src", "extension.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    external: ["vscode"],
    outfile: out,
    logLevel: "silent",
  });
  const Module = require("module");
  const orig = Module._load;
  Module._load = function (req: string, ...rest: unknown[]) {
    return req === "vscode" ? fake.vscode : orig.call(this, req, ...rest);
  };
  try {
    return require(out) as { activate(c: unknown): Promise<void>; deactivate(): Promise<void> };
  } finally {
    Module._load = orig;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

test("without the binary: one notification, quiet status, working commands", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "soc2ls-act-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Nothing to find: an empty PATH, no GOPATH, a home without go/bin.
  const saved = { PATH: process.env.PATH, GOPATH: process.env.GOPATH, HOME: process.env.HOME };
  t.after(() => Object.assign(process.env, saved));
  process.env.PATH = path.join(dir, "empty-bin");
  delete process.env.GOPATH;
  process.env.HOME = dir;

  const fake = fakeVSCode();
  const ext = load(fake, dir);
  const subscriptions: { dispose(): void }[] = [];
  await ext.activate({ subscriptions });
  await flush();

  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual([...fake.commands.keys()].filter((c) => c.startsWith("soc2ls.")).sort(), contributed);

  assert.equal(fake.warnings.length, 1, JSON.stringify(fake.warnings));
  assert.match(fake.warnings[0].message, /go install github\.com\/soc2ls\/soc2ls\/cmd\/soc2ls@latest/);
  assert.deepEqual(fake.warnings[0].items, ["Open Settings", "Copy Install Command"]);
  assert.ok(fake.output.some((l) => l.includes(path.join(dir, "go", "bin", "soc2ls"))), fake.output.join("\n"));

  // Status: on YAML, JSON and CloudFormation documents only.
  assert.equal(fake.status.visible, false, "no editor open");
  fake.openEditor("file", "markdown");
  assert.equal(fake.status.visible, false);
  fake.openEditor("file", "yaml");
  assert.equal(fake.status.visible, true);
  assert.match(fake.status.text, /not installed/);
  fake.openEditor("git", "yaml");
  assert.equal(fake.status.visible, false, "a git: diff view is not served");
  fake.openEditor("untitled", "json");
  assert.equal(fake.status.visible, true);

  // Restarting, changing other settings: no second notification.
  await fake.vscode.commands.executeCommand("soc2ls.restartServer");
  fake.changeSetting("logLevel", "debug");
  await flush();
  assert.equal(fake.warnings.length, 1, JSON.stringify(fake.warnings));

  // Commands answer without a server.
  await fake.vscode.commands.executeCommand("soc2ls.fixAll");
  assert.deepEqual(fake.infos, [], "an untitled JSON editor is open: fix all says the server is not running");
  assert.match(fake.warnings.at(-1)!.message, /not running/);
  await fake.vscode.commands.executeCommand("soc2ls.explain");
  assert.match(fake.warnings.at(-1)!.message, /not found/);
  const before = fake.warnings.length;

  // A new soc2ls.path restarts and, still missing, says so once for it.
  fake.answer("Copy Install Command");
  fake.changeSetting("path", "/nonexistent/soc2ls");
  await flush();
  await flush();
  assert.equal(fake.warnings.length, before + 1);
  assert.match(fake.warnings.at(-1)!.message, /soc2ls\.path \(\/nonexistent\/soc2ls\)/);
  assert.equal(fake.clipboard(), "go install github.com/soc2ls/soc2ls/cmd/soc2ls@latest");

  // Open Settings goes to the setting.
  fake.answer("Open Settings");
  fake.changeSetting("path", "/nonexistent/other");
  await flush();
  await flush();
  assert.deepEqual(fake.executed.at(-1), ["workbench.action.openSettings", "soc2ls.path"]);

  await ext.deactivate();
  for (const s of subscriptions) s.dispose();
});
