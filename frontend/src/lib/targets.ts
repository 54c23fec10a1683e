/** Filtering of requestable targets in the wizard: plain functions so 2.5 million rows can be tested and measured. */

export interface TargetLike {
  account: { id: string; name: string; organizationalUnitPath: string; tags: { key: string; value: string }[] };
  permissionSet: { arn: string; name: string };
}

export interface TargetFilter {
  text: string;
  /** An OU id: accounts in it or in any OU nested below it. */
  ouId: string | null;
  /** "key=value" strings; a target must carry every one. */
  tags: string[];
  permissionSets: string[];
}

export function targetKey(t: TargetLike): string {
  return `${t.account.id}|${t.permissionSet.arn}`;
}

export function matchesTarget(t: TargetLike, f: TargetFilter): boolean {
  if (f.ouId && !t.account.organizationalUnitPath.includes(`/${f.ouId}/`)) return false;
  if (f.permissionSets.length && !f.permissionSets.includes(t.permissionSet.name)) return false;
  if (f.tags.length) {
    for (const tag of f.tags) {
      if (!t.account.tags.some((x) => `${x.key}=${x.value}` === tag)) return false;
    }
  }
  if (f.text) {
    const q = f.text.toLowerCase();
    if (
      !t.account.name.toLowerCase().includes(q) &&
      !t.account.id.includes(q) &&
      !t.permissionSet.name.toLowerCase().includes(q)
    )
      return false;
  }
  return true;
}

export function filterTargets<T extends TargetLike>(targets: T[], f: TargetFilter): T[] {
  if (!f.text && !f.ouId && !f.tags.length && !f.permissionSets.length) return targets;
  return targets.filter((t) => matchesTarget(t, f));
}

/** The longest a ticket may last: the tightest cap among the chosen targets' rules. */
export function maxDurationFor(targets: { maxDurationSeconds: number }[]): number | null {
  if (!targets.length) return null;
  return Math.min(...targets.map((t) => t.maxDurationSeconds));
}
