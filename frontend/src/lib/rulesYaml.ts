import { stringify } from "yaml";

interface RuleLike {
  name: string;
  description: string;
  requesters: { users: string[]; groups: string[] };
  scope: { accounts: string[]; organizationalUnits: string[]; permissionSets: string[] };
  maxDurationSeconds: number;
  justificationRequired: boolean;
  steps: { name: string; users: string[]; groups: string[]; required: number }[];
}

/** The rules in the file format `jit rules apply` reads (see jit/demo/rules.yaml). */
export function rulesToYaml(rules: RuleLike[]): string {
  return stringify({
    rules: rules.map((r) => ({
      name: r.name,
      description: r.description,
      requesters: { users: r.requesters.users, groups: r.requesters.groups },
      scope: {
        accounts: r.scope.accounts,
        organizational_units: r.scope.organizationalUnits,
        permission_sets: r.scope.permissionSets,
      },
      max_duration_seconds: r.maxDurationSeconds,
      justification_required: r.justificationRequired,
      steps: r.steps.map((s) => ({ name: s.name, users: s.users, groups: s.groups, required: s.required })),
    })),
  });
}
