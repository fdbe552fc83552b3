// The extension's settings and explain logic against the real `soc2ls serve`
// (built by editors/vscode_test.go and passed as SOC2LS_BIN), over the same
// protocol library languageclient uses. It checks that what
// toServerSettings produces is what the server accepts, at start and on a
// change, that YAML which is not CloudFormation gets no publication, and that
// the fix-all code action the "Fix All" command runs is offered and repairs.

import { spawn } from "child_process";
import { strict as assert } from "assert";
import * as fs from "fs";
import { test } from "node:test";
import * as path from "path";
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-languageserver-protocol/node";

import { explainChoices } from "../src/explain";
import { ExtensionSettings, toServerSettings } from "../src/settings";
import { countFindings } from "../src/status";

interface Diagnostic {
  code?: string;
  source?: string;
  message: string;
  data?: unknown;
}
interface Position {
  line: number;
  character: number;
}
interface TextEdit {
  range: { start: Position; end: Position };
  newText: string;
}

const template = path.resolve(__dirname, "..", "..", "..", "..", "testdata", "examples", "fintech-weak.yaml");

test("settings, silence and fix-all against soc2ls serve", async (t) => {
  const bin = process.env.SOC2LS_BIN;
  if (!bin) {
    t.skip("SOC2LS_BIN not set (go test ./editors sets it)");
    return;
  }
  const proc = spawn(bin, ["serve", "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (b) => (stderr += b));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  t.after(() => {
    conn.dispose();
    proc.kill();
  });

  // The extension answers the server's workspace/configuration pull with
  // the same mapping; so does this client.
  let current: ExtensionSettings = { diagnosticsDelayMs: 0, rules: { "SOC2-TAG-001": "off" }, logLevel: "debug" };
  conn.onRequest("workspace/configuration", (p: { items: { section?: string }[] }) =>
    p.items.map((i) => (i.section === "soc2ls" ? toServerSettings(current).settings : null)),
  );
  const messages: string[] = [];
  conn.onNotification("window/showMessage", (m: { message: string }) => messages.push(m.message));
  const published = new Map<string, Diagnostic[][]>();
  const waiters: (() => void)[] = [];
  conn.onNotification("textDocument/publishDiagnostics", (p: { uri: string; diagnostics: Diagnostic[] }) => {
    published.set(p.uri, [...(published.get(p.uri) ?? []), p.diagnostics]);
    waiters.splice(0).forEach((w) => w());
  });
  // next waits for a publication for uri that satisfies ok; bounded by
  // publications, not by time: the test runner's own timeout is the backstop.
  const next = (uri: string, ok: (d: Diagnostic[]) => boolean) =>
    new Promise<Diagnostic[]>((resolve) => {
      const check = () => {
        const last = published.get(uri)?.at(-1);
        if (last && ok(last)) resolve(last);
        else waiters.push(check);
      };
      check();
    });
  conn.listen();

  const init = (await conn.sendRequest("initialize", {
    processId: process.pid,
    rootUri: null,
    capabilities: {
      workspace: { configuration: true, applyEdit: true, workspaceEdit: { documentChanges: true } },
      textDocument: {
        publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
        codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix", "source", "source.fixAll"] } } },
      },
    },
    initializationOptions: toServerSettings(current).settings,
  })) as { capabilities: { codeActionProvider?: unknown } };
  assert.ok(init.capabilities.codeActionProvider);
  await conn.sendNotification("initialized", {});

  const uri = "file://" + template;
  let text = fs.readFileSync(template, "utf8");
  let version = 1;
  await conn.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version, text } });
  const first = await next(uri, (d) => d.length > 0);
  assert.equal(countFindings(first), first.length, "every diagnostic is soc2ls's");
  assert.ok(!first.some((d) => d.code === "SOC2-TAG-001"), "SOC2-TAG-001 is off through initializationOptions");
  const choices = explainChoices(first);
  assert.ok(choices.rules.includes("SOC2-CT-001"), choices.rules.join(" "));
  assert.ok(choices.criteria.includes("CC7.2"), choices.criteria.join(" "));

  // A change of soc2ls.rules reaches the running server.
  current = { ...current, rules: {} };
  await conn.sendNotification("workspace/didChangeConfiguration", { settings: { soc2ls: toServerSettings(current).settings } });
  const all = await next(uri, (d) => d.some((x) => x.code === "SOC2-TAG-001"));
  assert.ok(all.length > first.length);
  current = { ...current, rules: { "SOC2-CT-001": { severity: "hint" }, "SOC2-TAG-001": "off" } };
  await conn.sendNotification("workspace/didChangeConfiguration", { settings: { soc2ls: toServerSettings(current).settings } });
  const hinted = await next(uri, (d) => !d.some((x) => x.code === "SOC2-TAG-001"));
  assert.equal((hinted.find((d) => d.code === "SOC2-CT-001") as { severity?: number } | undefined)?.severity, 4);
  assert.deepEqual(messages, [], "valid settings raise no message");

  // YAML that is not CloudFormation: no publication at all.
  const k8s = "untitled:Untitled-1";
  await conn.sendNotification("textDocument/didOpen", {
    textDocument: { uri: k8s, languageId: "yaml", version: 1, text: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" },
  });
  await conn.sendRequest("textDocument/codeAction", {
    textDocument: { uri: k8s },
    range: { start: { line: 0, character: 0 }, end: { line: 4, character: 0 } },
    context: { diagnostics: [], only: ["source.fixAll.soc2ls"] },
  });

  // Fix all: the code action the command asks for, applied like VS Code does.
  const lines = text.split("\n");
  const actions = (await conn.sendRequest("textDocument/codeAction", {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
    context: { diagnostics: [], only: ["source.fixAll.soc2ls"] },
  })) as { kind: string; edit?: { documentChanges?: { edits: TextEdit[] }[]; changes?: Record<string, TextEdit[]> } }[];
  assert.equal(actions.length, 1, JSON.stringify(actions.map((a) => a.kind)));
  assert.equal(actions[0].kind, "source.fixAll.soc2ls");
  const edits = actions[0].edit?.documentChanges?.[0]?.edits ?? actions[0].edit?.changes?.[uri] ?? [];
  assert.ok(edits.length > 0);
  text = applyEdits(text, edits);
  version++;
  await conn.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ text }] });
  const fixed = await next(uri, (d) => d !== hinted && d.length < hinted.length);
  assert.ok(!fixed.some((d) => d.code === "SOC2-CT-001"), "the trail is multi-region now");

  assert.equal(published.get(k8s), undefined, "nothing published for the ConfigMap");
  await conn.sendRequest("shutdown");
  await conn.sendNotification("exit");
  assert.equal(await exited, 0, stderr);
});

// applyEdits applies LSP text edits (UTF-16 positions, which JavaScript
// strings index natively) from the last to the first.
function applyEdits(text: string, edits: TextEdit[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  const off = (p: Position) => (starts[p.line] ?? text.length) + p.character;
  const sorted = [...edits].sort((a, b) => off(b.range.start) - off(a.range.start));
  for (const e of sorted) text = text.slice(0, off(e.range.start)) + e.newText + text.slice(off(e.range.end));
  return text;
}
