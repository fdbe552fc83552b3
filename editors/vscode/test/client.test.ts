// Runs the bundled extension, with its real languageclient, against the real
// `soc2ls serve` (SOC2LS_BIN), inside a stand-in for the `vscode` module that
// implements what languageclient and the extension use: documents,
// configuration, diagnostics collections and events. Any API it does not
// implement is a no-op returning a disposable (provider registrations,
// events nothing fires here). It checks the glue: the binary from
// soc2ls.path, initializationOptions and didChangeConfiguration from the
// settings mapping, the status bar's count for a template and its silence
// for a Kubernetes manifest, and a clean shutdown.

import { strict as assert } from "assert";
import * as fs from "fs";
import { test } from "node:test";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");
const templatePath = path.resolve(root, "..", "..", "testdata", "examples", "fintech-weak.yaml");

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

class Uri {
  constructor(readonly scheme: string, readonly path: string, readonly fsPath: string) {}
  static parse(s: string) {
    const i = s.indexOf(":");
    const rest = s.slice(i + 1).replace(/^\/\//, "");
    return new Uri(s.slice(0, i), decodeURIComponent(rest), decodeURIComponent(rest));
  }
  static file(p: string) {
    return new Uri("file", p, p);
  }
  static from(c: { scheme: string; path: string }) {
    return new Uri(c.scheme, c.path, c.path);
  }
  toString() {
    return this.scheme === "file" ? "file://" + this.path.split("/").map(encodeURIComponent).join("/") : `${this.scheme}:${this.path}`;
  }
  toJSON() {
    return this.toString();
  }
}
class Position {
  constructor(readonly line: number, readonly character: number) {}
}
class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}
class Diagnostic {
  source?: string;
  code?: unknown;
  constructor(readonly range: Range, readonly message: string, readonly severity?: number) {}
}
class CodeActionKind {
  static Empty = new CodeActionKind("");
  constructor(readonly value: string) {}
  append(part: string) {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other: CodeActionKind) {
    return this.value === "" || other.value === this.value || other.value.startsWith(this.value + ".");
  }
}
class CancellationTokenSource {
  token = { isCancellationRequested: false, onCancellationRequested: () => disposable() };
  cancel() {
    this.token.isCancellationRequested = true;
  }
  dispose() {}
}
// codeOf is a converted diagnostic's rule id: languageclient makes the code
// {value, target} when the server sends a codeDescription.
function codeOf(d: Diagnostic): unknown {
  return typeof d.code === "object" && d.code !== null ? (d.code as { value: unknown }).value : d.code;
}
const disposable = () => ({ dispose() {} });

// deep returns obj with every missing member a no-op that returns a
// disposable (events, registrations), so languageclient finds the API it
// probes for without this fake spelling out all of it.
function deep<T extends object>(obj: T): T {
  return new Proxy(obj, {
    get(t, k) {
      if (k in t) return (t as Record<string | symbol, unknown>)[k];
      if (typeof k === "symbol" || k === "then") return undefined;
      return () => disposable();
    },
  });
}

// auto stands for a class or enum the fake does not define: constructible,
// and each member a distinct value.
function auto(name: string): unknown {
  return new Proxy(class {}, {
    get(t, k) {
      if (k in t || typeof k === "symbol") return (t as unknown as Record<string | symbol, unknown>)[k];
      return `${name}.${String(k)}`;
    },
  });
}

function fakeVSCode(settings: Record<string, unknown>) {
  const collections: Map<string, Diagnostic[]>[] = [];
  const configChanged = new EventEmitter<{ affectsConfiguration(s: string, r?: unknown): boolean }>();
  const diagnosticsChanged = new EventEmitter<unknown>();
  const opened = new EventEmitter<unknown>();
  const editorChanged = new EventEmitter<unknown>();
  const warnings: string[] = [];
  const output: string[] = [];
  const status = { text: "", tooltip: "", visible: false };
  const docs: { uri: Uri; languageId: string; version: number; getText(): string; isClosed: boolean }[] = [];
  const window = deep({
    activeTextEditor: undefined as unknown,
    visibleTextEditors: [] as unknown[],
    tabGroups: deep({ all: [] as unknown[] }),
    onDidChangeActiveTextEditor: editorChanged.event,
    createOutputChannel: (name: string) =>
      deep({ name, append: (s: string) => output.push(s), appendLine: (s: string) => output.push(s), show() {}, dispose() {}, clear() {} }),
    createStatusBarItem: () => Object.assign(status, { show: () => (status.visible = true), hide: () => (status.visible = false), dispose() {} }),
    showWarningMessage: async (m: string) => void warnings.push(m),
    showErrorMessage: async (m: string) => void warnings.push(m),
    showInformationMessage: async (m: string) => void warnings.push(m),
  });
  const classes = Object.fromEntries(
    ["CompletionItem", "CodeLens", "DocumentLink", "CodeAction", "CallHierarchyItem", "TypeHierarchyItem", "SymbolInformation", "InlayHint", "CancellationError", "DiagnosticRelatedInformation", "Location", "MarkdownString"].map((n) => [n, class {}]),
  );
  const getDiagnostics = (u: Uri) => collections.flatMap((c) => c.get(u.toString()) ?? []);
  const vscode = {
    ...classes,
    version: "1.82.0",
    Uri,
    Position,
    Range,
    Diagnostic,
    CodeActionKind,
    CancellationTokenSource,
    EventEmitter,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    Disposable: Object.assign(class { constructor(readonly dispose: () => void) {} }, { from: () => disposable() }),
    window,
    env: deep({ language: "en", appName: "fake", clipboard: { writeText: async () => undefined } }),
    commands: deep({ registerCommand: () => disposable(), executeCommand: async () => undefined }),
    workspace: deep({
      workspaceFolders: undefined,
      textDocuments: docs,
      getConfiguration: (section?: string) => ({
        get: (k: string, d?: unknown) => {
          const key = section ? `${section}.${k}` : k;
          if (key === "soc2ls") return { ...settings };
          const sk = key.replace(/^soc2ls\./, "");
          return sk in settings ? settings[sk] : d;
        },
        has: () => false,
        inspect: () => undefined,
      }),
      onDidChangeConfiguration: configChanged.event,
      onDidOpenTextDocument: opened.event,
      registerTextDocumentContentProvider: () => disposable(),
    }),
    languages: deep({
      match: (selector: { scheme?: string; language?: string }[] | string, d: { uri: Uri; languageId: string }) =>
        (Array.isArray(selector) ? selector : [{ language: selector }]).some(
          (s) => (!s.scheme || s.scheme === d.uri.scheme) && (!s.language || s.language === d.languageId),
        ) ? 10 : 0,
      getDiagnostics,
      onDidChangeDiagnostics: diagnosticsChanged.event,
      createDiagnosticCollection: () => {
        const m = new Map<string, Diagnostic[]>();
        collections.push(m);
        return deep({
          set: (u: Uri, d: Diagnostic[]) => {
            m.set(u.toString(), d ?? []);
            diagnosticsChanged.fire({ uris: [u] });
          },
          delete: (u: Uri) => void m.delete(u.toString()),
          clear: () => m.clear(),
          dispose: () => m.clear(),
          forEach: () => undefined,
          get: (u: Uri) => m.get(u.toString()),
          has: (u: Uri) => m.has(u.toString()),
        });
      },
    }),
  };
  const api = new Proxy(vscode as Record<string, unknown>, {
    get: (t, k) =>
      typeof k === "symbol" || k in t || k === "__esModule" || k === "default" || k === "then" ? t[k as string] : (t[k] = auto(k)),
  }) as typeof vscode;
  return {
    vscode: api,
    warnings,
    output,
    status,
    getDiagnostics,
    open(uri: Uri, languageId: string, text: string) {
      const d = { uri, languageId, version: 1, getText: () => text, isClosed: false, isUntitled: uri.scheme === "untitled", fileName: uri.fsPath, lineCount: text.split("\n").length };
      docs.push(d);
      opened.fire(d);
      (window as { activeTextEditor: unknown }).activeTextEditor = { document: d };
      editorChanged.fire(window.activeTextEditor);
      return d;
    },
    changeSetting(key: string, value: unknown) {
      settings[key] = value;
      configChanged.fire({ affectsConfiguration: (s: string) => s === "soc2ls" || s === `soc2ls.${key}` });
    },
  };
}

interface Ext {
  activate(c: unknown): Promise<void>;
  deactivate(): Promise<void>;
}

// load bundles src/extension.ts as the package does, into dir, and loads it
// with the fake in place of `vscode` (each test its own copy and state).
function load(fake: ReturnType<typeof fakeVSCode>, dir: string): Ext {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("esbuild").buildSync({
    entryPoints: [path.join(root, "src", "extension.ts")],
    bundle: true, platform: "node", format: "cjs", target: "node18", external: ["vscode"],
    outfile: path.join(dir, "extension.js"), logLevel: "silent",
  });
  const Module = require("module");
  const orig = Module._load;
  Module._load = function (req: string, ...rest: unknown[]) {
    return req === "vscode" ? fake.vscode : orig.call(this, req, ...rest);
  };
  try {
    return require(path.join(dir, "extension.js")) as Ext;
  } finally {
    Module._load = orig;
  }
}

// until waits for cond, re-checking after every event loop turn; bounded by
// a count of turns (and the test runner's timeout), not by a clock.
async function until(what: string, cond: () => boolean, output: string[]) {
  for (let i = 0; !cond(); i++) {
    if (i > 30000) assert.fail(`gave up waiting: ${what}\n${output.join("\n")}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

test("a server that dies at once is restarted three times, then one message", async (t) => {
  if (process.platform === "win32") {
    t.skip("uses a shell script as the server");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "soc2ls-crash-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const starts = path.join(dir, "starts");
  const bin = path.join(dir, "soc2ls");
  // It answers initialize and dies on the next message, as a server that
  // crashes on its first document would. (One that dies before answering
  // initialize makes languageclient's own restarts reject promises nobody
  // handles: VS Code logs those, the test runner would fail on them.)
  const script = `
    require("fs").appendFileSync(${JSON.stringify(starts)}, "start\\n");
    let buf = "";
    process.stdin.on("data", (b) => {
      buf += b;
      for (;;) {
        const m = /Content-Length: (\\d+)\\r\\n\\r\\n/.exec(buf);
        if (!m || buf.length < m.index + m[0].length + Number(m[1])) return;
        const msg = JSON.parse(buf.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1])));
        buf = buf.slice(m.index + m[0].length + Number(m[1]));
        if (msg.method !== "initialize") process.exit(3);
        const body = JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { capabilities: {} } });
        process.stdout.write("Content-Length: " + Buffer.byteLength(body) + "\\r\\n\\r\\n" + body);
      }
    });`;
  fs.writeFileSync(bin, `#!${process.execPath}\n${script}\n`, { mode: 0o755 });
  const fake = fakeVSCode({ path: bin, rules: {} });
  const ext = load(fake, dir);
  const subscriptions: { dispose(): void }[] = [];
  await ext.activate({ subscriptions });
  await until("giving up", () => fake.output.some((l) => l.includes("too often")), fake.output);
  const count = () => fs.readFileSync(starts, "utf8").split("\n").filter(Boolean).length;
  assert.equal(count(), 4, "the first start and three restarts");
  const gaveUp = fake.warnings.filter((w) => w.includes("stopped unexpectedly several times"));
  assert.equal(gaveUp.length, 1, fake.warnings.join("\n"));
  fake.open(Uri.file(path.join(dir, "t.yaml")), "yaml", "Resources: {}\n");
  assert.match(fake.status.text, /stopped/);
  assert.equal(fake.status.visible, true);
  // Nothing starts it again by itself.
  for (let i = 0; i < 1000; i++) await new Promise((r) => setImmediate(r));
  assert.equal(count(), 4);
  await ext.deactivate();
  for (const s of subscriptions) s.dispose();
});

test("the extension and languageclient against soc2ls serve", async (t) => {
  const bin = process.env.SOC2LS_BIN;
  if (!bin) {
    t.skip("SOC2LS_BIN not set (go test ./editors sets it)");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "soc2ls-client-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = fakeVSCode({ path: bin, diagnosticsDelayMs: 0, rules: { "SOC2-TAG-001": "off" }, logLevel: "info", trace: { server: "off" } });

  const ext = load(fake, dir);

  const subscriptions: { dispose(): void }[] = [];
  // SOC2LS_DEBUG=1 prints the output channel's tail and the status while
  // the test runs (a hang shows where it is).
  const keep = setInterval(() => process.env.SOC2LS_DEBUG && console.error(fake.output.slice(-3).join("\n"), fake.warnings, fake.status, fake.getDiagnostics(Uri.file(templatePath)).map(codeOf).join(" ")), 3000);
  t.after(() => clearInterval(keep));
  await ext.activate({ subscriptions });
  assert.ok(fake.output.some((l) => l.includes(`using ${bin} (from setting)`)), fake.output.join("\n"));

  const k8s = fake.open(Uri.parse("untitled:Untitled-1"), "yaml", "apiVersion: v1\nkind: ConfigMap\n");
  const tpl = fake.open(Uri.file(templatePath), "yaml", fs.readFileSync(templatePath, "utf8"));
  await until("diagnostics for the template", () => fake.getDiagnostics(tpl.uri).length > 0, fake.output);
  const first = fake.getDiagnostics(tpl.uri);
  assert.ok(!first.some((d) => codeOf(d) === "SOC2-TAG-001"), "off through initializationOptions");
  assert.equal(fake.status.visible, true);
  assert.equal(fake.status.text, `$(shield) soc2ls: ${first.length}`);

  // A settings change reaches the running server: SOC2-TAG-001 comes back.
  fake.changeSetting("rules", {});
  await until("SOC2-TAG-001 after the change", () => fake.getDiagnostics(tpl.uri).some((d) => codeOf(d) === "SOC2-TAG-001"), fake.output);
  await until("the status count", () => fake.status.text === `$(shield) soc2ls: ${fake.getDiagnostics(tpl.uri).length}`, fake.output);

  // The manifest: nothing published, and no status bar item on it.
  (fake.vscode.window as { activeTextEditor: unknown }).activeTextEditor = { document: k8s };
  // A diagnostics change (here in another collection) refreshes the status.
  fake.vscode.languages.createDiagnosticCollection().set(Uri.parse("untitled:other"), []);
  assert.equal(fake.getDiagnostics(k8s.uri).length, 0);
  assert.equal(fake.status.visible, false);
  assert.deepEqual(fake.warnings, [], "no notification in a normal session");

  await ext.deactivate();
  for (const s of subscriptions) s.dispose();
});
