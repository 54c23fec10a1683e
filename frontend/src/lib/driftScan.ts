/** How the drift page shows a scan and a finding's principal. */

export interface ScanLike {
  status: "QUEUED" | "RUNNING" | "FINISHED" | "FAILED";
  trigger: string;
  pairsTotal: number;
  pairsDone: number;
  calls: number;
  findings: number;
  new: number;
  resolved: number;
  error: string;
  progress: number;
}

export interface ScanView {
  /** 0 to 100, for a ProgressBar. */
  value: number;
  label: string;
  description: string;
  status: "in-progress" | "success" | "error";
  /** Still queued or running: the page polls until it is not. */
  active: boolean;
}

export function scanView(scan: ScanLike): ScanView {
  const who = scan.trigger === "SCHEDULED" ? "Scheduled scan" : "Scan";
  const calls = `${scan.calls} AWS call${scan.calls === 1 ? "" : "s"}`;
  switch (scan.status) {
    case "QUEUED":
      return {
        value: 0,
        label: `${who} queued`,
        description: "Waiting for a worker.",
        status: "in-progress",
        active: true,
      };
    case "RUNNING":
      return {
        value: Math.round(scan.progress * 100),
        label: `${who} running`,
        description: scan.pairsTotal
          ? `${scan.pairsDone} of ${scan.pairsTotal} provisioned account and permission set pairs read; ${calls}.`
          : `Finding the provisioned account and permission set pairs; ${calls}.`,
        status: "in-progress",
        active: true,
      };
    case "FINISHED":
      return {
        value: 100,
        label: `${who} finished`,
        description: `${scan.pairsTotal} pairs read in ${calls}: ${scan.findings} open, ${scan.new} new, ${scan.resolved} resolved.`,
        status: "success",
        active: false,
      };
    default:
      return {
        value: Math.round(scan.progress * 100),
        label: `${who} failed`,
        description: scan.error || "The scan failed.",
        status: "error",
        active: false,
      };
  }
}

export interface PrincipalLike {
  principalType: string;
  principalId: string;
  user?: { userName: string } | null;
  group?: { displayName: string } | null;
}

export function principalLabel(finding: PrincipalLike): string {
  if (finding.user) return finding.user.userName;
  if (finding.group) return `group ${finding.group.displayName}`;
  return `${finding.principalType.toLowerCase()} ${finding.principalId}`;
}
