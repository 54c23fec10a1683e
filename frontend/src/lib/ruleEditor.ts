import { parse, stringify } from "yaml";
import type { ApprovalRuleInput } from "../graphql/generated/graphql";

/** A rule as the API returns it (the fields the editor round-trips). */
export interface EditableRule {
  name: string;
  description: string;
  requesters: { users: string[]; groups: string[] };
  scope: { accounts: string[]; organizationalUnits: string[]; permissionSets: string[] };
  permissionSetGroups?: string[];
  permissionSetGroupsBundleOnly?: boolean;
  maxDurationSeconds: number;
  justificationRequired: boolean;
  steps: { name: string; users: string[]; groups: string[]; required: number }[];
  onBehalf?: { requesters: { users: string[]; groups: string[] }; principals: { users: string[]; groups: string[] } }[];
  breakGlass?: boolean;
  approvalWindowSeconds?: number;
  extension?: {
    requiresApproval: boolean;
    steps?: number | null;
    maxTotalDurationSeconds: number;
    maxExtensions: number;
  } | null;
}

/** One rule in the rules.yaml format (`jit rules apply`), every field spelled out so a save replaces nothing by accident. */
export function ruleToYaml(r: EditableRule): string {
  return stringify({
    name: r.name,
    description: r.description,
    requesters: { users: r.requesters.users, groups: r.requesters.groups },
    scope: {
      accounts: r.scope.accounts,
      organizational_units: r.scope.organizationalUnits,
      permission_sets: r.scope.permissionSets,
      permission_set_groups: r.permissionSetGroups ?? [],
      permission_set_groups_bundle_only: r.permissionSetGroupsBundleOnly ?? false,
    },
    max_duration_seconds: r.maxDurationSeconds,
    justification_required: r.justificationRequired,
    steps: r.steps.map((s) => ({ name: s.name, users: s.users, groups: s.groups, required: s.required })),
    on_behalf: (r.onBehalf ?? []).map((o) => ({
      requesters: { users: o.requesters.users, groups: o.requesters.groups },
      principals: { users: o.principals.users, groups: o.principals.groups },
    })),
    break_glass: r.breakGlass ?? false,
    approval_window_seconds: r.approvalWindowSeconds ?? 86400,
    extension: r.extension
      ? {
          requires_approval: r.extension.requiresApproval,
          steps: r.extension.steps ?? null,
          max_total_duration_seconds: r.extension.maxTotalDurationSeconds,
          max_extensions: r.extension.maxExtensions,
        }
      : null,
  });
}

export const NEW_RULE_YAML = ruleToYaml({
  name: "new-rule",
  description: "",
  requesters: { users: [], groups: [] },
  scope: { accounts: [], organizationalUnits: [], permissionSets: [] },
  maxDurationSeconds: 3600,
  justificationRequired: true,
  steps: [{ name: "Team lead", users: [], groups: [], required: 1 }],
});

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

function strings(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new Error(`${where} must be a list of names`);
  return v as string[];
}

function principals(v: unknown, where: string): { users: string[]; groups: string[] } {
  if (v === undefined || v === null) return { users: [], groups: [] };
  if (!isObj(v)) throw new Error(`${where} must have users and groups`);
  return { users: strings(v.users, `${where}.users`), groups: strings(v.groups, `${where}.groups`) };
}

function int(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`${where} must be a whole number`);
  return v;
}

/**
 * The YAML back into the API's input, or an error naming the part at fault. Only the
 * shape is checked here; the server validates the meaning (names, limits) and answers
 * with a typed error.
 */
export function yamlToRuleInput(text: string): { input: ApprovalRuleInput } | { error: string } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return { error: `Not valid YAML: ${(e as Error).message.split("\n")[0]}` };
  }
  if (isObj(doc) && Array.isArray(doc.rules)) {
    if (doc.rules.length !== 1) return { error: "Edit one rule at a time." };
    doc = doc.rules[0];
  }
  try {
    if (!isObj(doc)) throw new Error("The YAML must be one rule (a mapping with name, scope, steps...).");
    if (typeof doc.name !== "string" || !doc.name.trim()) throw new Error("name is required");
    const scope = isObj(doc.scope) ? doc.scope : {};
    const ext = doc.extension;
    const steps = doc.steps ?? [];
    if (!Array.isArray(steps)) throw new Error("steps must be a list");
    const onBehalf = doc.on_behalf ?? [];
    if (!Array.isArray(onBehalf)) throw new Error("on_behalf must be a list");
    return {
      input: {
        name: doc.name,
        description: typeof doc.description === "string" ? doc.description : "",
        requesters: principals(doc.requesters, "requesters"),
        scope: {
          accounts: strings(scope.accounts, "scope.accounts"),
          organizationalUnits: strings(scope.organizational_units, "scope.organizational_units"),
          permissionSets: strings(scope.permission_sets, "scope.permission_sets"),
          permissionSetGroups: strings(scope.permission_set_groups, "scope.permission_set_groups"),
          permissionSetGroupsBundleOnly: scope.permission_set_groups_bundle_only === true,
        },
        maxDurationSeconds: int(doc.max_duration_seconds, "max_duration_seconds"),
        justificationRequired: doc.justification_required === undefined ? true : doc.justification_required === true,
        steps: steps.map((s, i) => {
          if (!isObj(s) || typeof s.name !== "string") throw new Error(`steps[${i}] needs a name`);
          return {
            name: s.name,
            users: strings(s.users, `steps[${i}].users`),
            groups: strings(s.groups, `steps[${i}].groups`),
            required: s.required === undefined ? 1 : int(s.required, `steps[${i}].required`),
          };
        }),
        onBehalf: onBehalf.map((o, i) => {
          if (!isObj(o)) throw new Error(`on_behalf[${i}] needs requesters and principals`);
          return {
            requesters: principals(o.requesters, `on_behalf[${i}].requesters`),
            principals: principals(o.principals, `on_behalf[${i}].principals`),
          };
        }),
        breakGlass: doc.break_glass === true,
        approvalWindowSeconds:
          doc.approval_window_seconds === undefined
            ? 86400
            : int(doc.approval_window_seconds, "approval_window_seconds"),
        extension: isObj(ext)
          ? {
              requiresApproval: ext.requires_approval !== false,
              steps: ext.steps === undefined || ext.steps === null ? null : int(ext.steps, "extension.steps"),
              maxTotalDurationSeconds: int(ext.max_total_duration_seconds, "extension.max_total_duration_seconds"),
              maxExtensions: ext.max_extensions === undefined ? 1 : int(ext.max_extensions, "extension.max_extensions"),
            }
          : null,
      },
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * A field path of the API's answer (the input's camelCase: `scope.organizationalUnits[0]`)
 * in the YAML's own words (`scope.organizational_units[0]`), for an error shown beside the YAML.
 */
export function yamlField(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * How a rule covers the previewed permission set: named by the rule itself, or through its
 * permission set groups, in which case it is also requestable alone unless the rule is bundle-only.
 */
export function previewThrough(r: { viaPermissionSetGroups: string[]; requestableAlone: boolean }): string {
  if (!r.viaPermissionSetGroups.length) return "Named by the rule";
  const groups = r.viaPermissionSetGroups.join(", ");
  return r.requestableAlone
    ? `Group ${groups}; also requestable alone`
    : `Group ${groups} only (bundle-only: not requestable alone)`;
}
