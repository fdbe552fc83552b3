// The VS Code extension: starts `soc2ls serve` for YAML and JSON documents
// and adds commands and a status bar item. The decisions (where the binary
// is, what the server is sent, what the status bar says, when to stop
// restarting) are pure functions in the other files of src/; this file only
// connects them to VS Code and languageclient.

import * as os from "os";
import * as vscode from "vscode";
import {
  CloseAction,
  CloseHandlerResult,
  DidChangeConfigurationNotification,
  ErrorAction,
  ErrorHandlerResult,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";

import { Discovery, findBinary, INSTALL_COMMAND, isExecutableFile, missingMessage } from "./discovery";
import { explainChoices, explainDocument, runExplain, validateQuery } from "./explain";
import { RestartBudget } from "./restart";
import { ExtensionSettings, toServerSettings } from "./settings";
import { countFindings, ServerState, statusView } from "./status";

const SECTION = "soc2ls";
const EXPLAIN_SCHEME = "soc2ls-explain";

/**
 * The documents handed to the server. The server decides which of them are
 * CloudFormation and publishes nothing for the others; "cloudformation" is
 * the language id some CloudFormation extensions give templates.
 */
const DOCUMENT_SELECTOR = ["file", "untitled"].flatMap((scheme) =>
  ["yaml", "json", "cloudformation"].map((language) => ({ scheme, language })),
);

let ext: Extension | undefined;

/** activate is called on the first YAML or JSON document, or a soc2ls command. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ext = new Extension(context);
  await ext.start();
}

/** deactivate stops the server. */
export async function deactivate(): Promise<void> {
  await ext?.stop();
  ext = undefined;
}

class Extension {
  private readonly output: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;
  private readonly explanations = new Map<string, string>();
  private readonly explainChanged = new vscode.EventEmitter<vscode.Uri>();
  private readonly budget = new RestartBudget();
  /** Documents the server has published diagnostics for: the templates. */
  private readonly analysed = new Set<string>();
  private client: LanguageClient | undefined;
  private state: ServerState = "stopped";
  private binary: string | undefined;
  /** The soc2ls.path value the missing-binary notification was shown for. */
  private notifiedMissingFor: string | undefined;
  private gaveUpNotified = false;

  constructor(context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel("soc2ls");
    this.status = vscode.window.createStatusBarItem("soc2ls.status", vscode.StatusBarAlignment.Right, 100);
    this.status.name = "soc2ls";
    this.status.command = "soc2ls.showOutput";
    const sub = context.subscriptions;
    sub.push(this.output, this.status, this.explainChanged);
    sub.push(
      vscode.commands.registerCommand("soc2ls.restartServer", () => this.restart()),
      vscode.commands.registerCommand("soc2ls.fixAll", () => this.fixAll()),
      vscode.commands.registerCommand("soc2ls.showOutput", () => this.output.show(true)),
      vscode.commands.registerCommand("soc2ls.explain", () => this.explain()),
      vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, {
        onDidChange: this.explainChanged.event,
        provideTextDocumentContent: (uri) => this.explanations.get(uri.toString()) ?? "",
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("soc2ls.path")) {
          // A different binary needs a new process; the other settings
          // reach the running server through didChangeConfiguration.
          void this.restart();
        } else if (e.affectsConfiguration(SECTION)) {
          this.reportProblems();
        }
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateStatus()),
      vscode.languages.onDidChangeDiagnostics(() => this.updateStatus()),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.analysed.delete(d.uri.toString());
        this.explanations.delete(d.uri.toString());
      }),
    );
  }

  /** start finds the binary and starts the client, or reports it missing once. */
  async start(): Promise<void> {
    const found = this.discover();
    if (found.kind === "missing") {
      this.binary = undefined;
      this.setState("missing");
      this.log(missingMessage(found));
      this.log("searched: " + (found.searched.join(", ") || "(nothing)"));
      void this.notifyMissing(found);
      return;
    }
    this.binary = found.path;
    this.log(`using ${found.path} (from ${found.source})`);
    this.gaveUpNotified = false;
    this.reportProblems();

    const serverOptions: ServerOptions = {
      command: found.path,
      args: ["serve", "--stdio"],
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      // The server's showMessage warnings (bad settings) are enough: the
      // output never opens by itself, so other YAML users see nothing.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => this.serverSettings(),
      synchronize: { configurationSection: SECTION },
      errorHandler: {
        error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue, handled: true }),
        closed: (): CloseHandlerResult => this.closed(),
      },
      middleware: {
        handleDiagnostics: (uri, diagnostics, next) => {
          this.analysed.add(uri.toString());
          next(uri, diagnostics);
          this.updateStatus();
        },
        workspace: {
          // Both ways settings reach the server go through toServerSettings:
          // the pushed section (the server takes {soc2ls: ...}) and the
          // server's workspace/configuration pull of the soc2ls section.
          didChangeConfiguration: async () => {
            // A soc2ls.path change stops this client while the change is
            // being synchronised; the new one starts with the new settings.
            if (!this.client?.isRunning()) return;
            await this.client.sendNotification(DidChangeConfigurationNotification.type, {
              settings: { [SECTION]: this.serverSettings() },
            });
          },
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, i) => (item.section === SECTION ? this.serverSettings() : answers[i]));
          },
        },
      },
    };

    const client = new LanguageClient("soc2ls", "soc2ls", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.setState("running");
      else if (e.newState === State.Starting) this.setState("starting");
      else {
        this.analysed.clear();
        this.setState("stopped");
      }
    });
    this.setState("starting");
    try {
      await client.start();
    } catch (err) {
      this.log(`soc2ls serve did not start: ${err instanceof Error ? err.message : String(err)}`);
      if (this.client === client) this.setState("stopped");
    }
  }

  /** stop stops the client, if any; the process exits after shutdown and exit. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.analysed.clear();
    if (client && client.needsStop()) {
      try {
        await client.stop();
      } catch (err) {
        this.log(`stopping soc2ls serve: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.setState("stopped");
  }

  private async restart(): Promise<void> {
    this.budget.reset();
    await this.stop();
    await this.start();
  }

  /** closed decides, on a crash, whether languageclient starts the server again. */
  private closed(): CloseHandlerResult {
    if (this.budget.crashed()) {
      this.log("soc2ls serve stopped unexpectedly; starting it again");
      return { action: CloseAction.Restart, handled: true };
    }
    this.log("soc2ls serve stopped unexpectedly too often; not starting it again until soc2ls: Restart Server");
    if (!this.gaveUpNotified) {
      this.gaveUpNotified = true;
      void vscode.window
        .showErrorMessage(
          "soc2ls: the language server stopped unexpectedly several times and will not be restarted.",
          "Show Output",
          "Restart Server",
        )
        .then((pick) => {
          if (pick === "Show Output") this.output.show(true);
          if (pick === "Restart Server") void this.restart();
        });
    }
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private discover(): Discovery {
    const configured = vscode.workspace.getConfiguration(SECTION).get<string>("path") ?? "";
    return findBinary({
      configured,
      env: process.env,
      platform: process.platform,
      homedir: os.homedir(),
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      isExecutable: isExecutableFile,
    });
  }

  /** notifyMissing shows the one notification for a missing binary. */
  private async notifyMissing(d: Extract<Discovery, { kind: "missing" }>): Promise<void> {
    const key = d.configured ?? "";
    if (this.notifiedMissingFor === key) return;
    this.notifiedMissingFor = key;
    const pick = await vscode.window.showWarningMessage(missingMessage(d), "Open Settings", "Copy Install Command");
    if (pick === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "soc2ls.path");
    } else if (pick === "Copy Install Command") {
      await vscode.env.clipboard.writeText(INSTALL_COMMAND);
    }
  }

  private readSettings(): ExtensionSettings {
    const c = vscode.workspace.getConfiguration(SECTION);
    return {
      path: c.get("path"),
      diagnosticsDelayMs: c.get("diagnosticsDelayMs"),
      rules: c.get("rules"),
      logLevel: c.get("logLevel"),
    };
  }

  private serverSettings() {
    return toServerSettings(this.readSettings()).settings;
  }

  /** reportProblems tells the user about settings of the wrong type, which are not sent. */
  private reportProblems(): void {
    const { problems } = toServerSettings(this.readSettings());
    for (const p of problems) {
      this.log("settings: " + p);
      void vscode.window.showWarningMessage(p);
    }
  }

  private async fixAll(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage("soc2ls: open a CloudFormation template first.");
      return;
    }
    if (this.state !== "running") {
      void vscode.window.showWarningMessage("soc2ls: the language server is not running.");
      return;
    }
    const doc = editor.document;
    const whole = new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
    const actions =
      (await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
        "vscode.executeCodeActionProvider",
        doc.uri,
        whole,
        "source.fixAll.soc2ls",
      )) ?? [];
    let applied = 0;
    for (const a of actions) {
      if (!("kind" in a) || !a.kind || !vscode.CodeActionKind.SourceFixAll.append("soc2ls").contains(a.kind)) continue;
      if (a.edit && (await vscode.workspace.applyEdit(a.edit))) applied++;
      if (a.command) await vscode.commands.executeCommand(a.command.command, ...(a.command.arguments ?? []));
    }
    if (applied === 0) {
      void vscode.window.showInformationMessage("soc2ls: no safe fixes for this file.");
    }
  }

  private async explain(): Promise<void> {
    if (!this.binary) {
      const found = this.discover();
      if (found.kind === "missing") {
        void vscode.window.showWarningMessage(missingMessage(found));
        return;
      }
      this.binary = found.path;
    }
    const uri = vscode.window.activeTextEditor?.document.uri;
    const { rules, criteria } = explainChoices(uri ? vscode.languages.getDiagnostics(uri) : []);
    const id = await this.pickId(rules, criteria);
    if (id === undefined) return;
    const result = await runExplain(this.binary, id);
    if (!result.ok) {
      void vscode.window.showWarningMessage(result.text.split("\n")[0]);
      return;
    }
    const doc = vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: `/${id.trim().toUpperCase()}.md` });
    this.explanations.set(doc.toString(), explainDocument(result.text));
    this.explainChanged.fire(doc);
    const text = await vscode.workspace.openTextDocument(doc);
    await vscode.languages.setTextDocumentLanguage(text, "markdown");
    await vscode.window.showTextDocument(text, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  /** pickId offers the ids in the file and accepts any typed id. */
  private pickId(rules: string[], criteria: string[]): Promise<string | undefined> {
    return new Promise((resolve) => {
      const qp = vscode.window.createQuickPick();
      qp.title = "soc2ls: explain a rule or criterion";
      qp.placeholder = "A rule id (SOC2-CT-001) or criterion (CC6.1): pick one from this file or type one";
      const fixed: vscode.QuickPickItem[] = [
        ...(rules.length ? [{ label: "rules in this file", kind: vscode.QuickPickItemKind.Separator }] : []),
        ...rules.map((r) => ({ label: r })),
        ...(criteria.length ? [{ label: "criteria in this file", kind: vscode.QuickPickItemKind.Separator }] : []),
        ...criteria.map((c) => ({ label: c })),
      ];
      qp.items = fixed;
      qp.onDidChangeValue((v) => {
        const t = v.trim();
        const known = fixed.some((i) => i.label.toUpperCase() === t.toUpperCase());
        qp.items = t === "" || known ? fixed : [{ label: t, description: validateQuery(t) ?? "explain" }, ...fixed];
      });
      let done = false;
      qp.onDidAccept(() => {
        const label = qp.selectedItems[0]?.label ?? qp.value;
        const problem = validateQuery(label);
        if (problem) {
          // The typed item's description already says why (QuickPick has
          // no validation message in VS Code 1.82): stay open.
          qp.items = [{ label: qp.value.trim() || " ", description: problem }, ...fixed];
          return;
        }
        done = true;
        resolve(label.trim());
        qp.hide();
      });
      qp.onDidHide(() => {
        if (!done) resolve(undefined);
        qp.dispose();
      });
      qp.show();
    });
  }

  private setState(s: ServerState): void {
    this.state = s;
    this.updateStatus();
  }

  private updateStatus(): void {
    const doc = vscode.window.activeTextEditor?.document;
    const view = statusView(
      this.state,
      doc && {
        relevant: vscode.languages.match(DOCUMENT_SELECTOR, doc) > 0,
        analysed: this.analysed.has(doc.uri.toString()),
        findings: countFindings(vscode.languages.getDiagnostics(doc.uri)),
      },
    );
    this.status.text = view.text;
    this.status.tooltip = view.tooltip;
    if (view.visible) this.status.show();
    else this.status.hide();
  }

  private log(line: string): void {
    this.output.appendLine(`[soc2ls extension] ${line}`);
  }
}
