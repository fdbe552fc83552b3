// The status bar item's text, as a pure function of the server's state and
// the active document (test/status.test.ts).

/** The state of the language server as the extension sees it. */
export type ServerState = "starting" | "running" | "stopped" | "missing";

/** What the status bar knows about the active editor's document. */
export interface ActiveDocument {
  /** The document is one the client hands to the server (YAML or JSON, file or untitled). */
  relevant: boolean;
  /** The server has published diagnostics for it, so it is a CloudFormation template. */
  analysed: boolean;
  /** soc2ls findings in it. */
  findings: number;
}

/** What the status bar item shows. */
export interface StatusView {
  visible: boolean;
  text: string;
  tooltip: string;
}

/**
 * statusView decides what the status bar shows. The server publishes nothing
 * for YAML and JSON that is not CloudFormation, so a document it has not
 * published for shows nothing while the server works: other YAML users see
 * no soc2ls item at all. A server that is missing or stopped is shown on
 * every YAML or JSON document, since no template can be told apart then and
 * the user needs to know why nothing is reported.
 */
export function statusView(state: ServerState, doc: ActiveDocument | undefined): StatusView {
  const hidden: StatusView = { visible: false, text: "", tooltip: "" };
  if (!doc || !doc.relevant) {
    return hidden;
  }
  switch (state) {
    case "missing":
      return {
        visible: true,
        text: "$(warning) soc2ls: not installed",
        tooltip: "The soc2ls binary was not found. Click for the output, which has the install command.",
      };
    case "stopped":
      return {
        visible: true,
        text: "$(error) soc2ls: stopped",
        tooltip: "The soc2ls language server is not running. Run \"soc2ls: Restart Server\"; click for its output.",
      };
    case "starting":
      if (!doc.analysed) return hidden;
      return { visible: true, text: "$(sync~spin) soc2ls", tooltip: "The soc2ls language server is starting." };
    case "running":
      if (!doc.analysed) return hidden;
      return {
        visible: true,
        text: doc.findings === 0 ? "$(pass) soc2ls" : `$(shield) soc2ls: ${doc.findings}`,
        tooltip: findingsText(doc.findings) + " in this template. Click for the soc2ls output.",
      };
  }
}

/** findingsText is "no SOC 2 findings", "1 SOC 2 finding", "3 SOC 2 findings". */
export function findingsText(n: number): string {
  if (n === 0) return "No SOC 2 findings";
  return n === 1 ? "1 SOC 2 finding" : `${n} SOC 2 findings`;
}

/** countFindings counts the diagnostics whose source is soc2ls. */
export function countFindings(diagnostics: ReadonlyArray<{ source?: string }>): number {
  let n = 0;
  for (const d of diagnostics) {
    if (d.source === "soc2ls") n++;
  }
  return n;
}
