import type { SideNavigationProps } from "@cloudscape-design/components/side-navigation";

/**
 * The console's sections. Later pages (delegations, permission set groups, settings,
 * API tokens) add an entry here and a route in routes.tsx; nothing else changes.
 */
export function navigationItems(admin: boolean, auditor = false): SideNavigationProps.Item[] {
  const items: SideNavigationProps.Item[] = [
    { type: "link", text: "My access", href: "/" },
    { type: "link", text: "Request access", href: "/request" },
    { type: "link", text: "Approvals", href: "/approvals" },
    { type: "link", text: "Tickets", href: "/tickets" },
    { type: "link", text: "Delegations", href: "/delegations" },
    { type: "link", text: "Insights", href: "/insights" },
    { type: "divider" },
    {
      // Rules, groups and the directory are readable by everyone; rule changes are for
      // admins and drift for admins and auditors (the server refuses others anyway).
      type: "section",
      text: "Organization",
      items: [
        { type: "link", text: "Approval rules", href: "/admin/rules" },
        { type: "link", text: "Accounts and OUs", href: "/admin/accounts" },
        { type: "link", text: "Permission set groups", href: "/admin/groups" },
        ...(admin ? [{ type: "link" as const, text: "Pending rule changes", href: "/admin/rule-changes" }] : []),
        ...(admin || auditor ? [{ type: "link" as const, text: "Drift", href: "/admin/drift" }] : []),
      ],
    },
    ...(admin || auditor ? [{ type: "link" as const, text: "Audit log", href: "/audit" }] : []),
    { type: "divider" },
    { type: "link", text: "Settings", href: "/settings" },
  ];
  return items;
}

/** Breadcrumbs for a path: the first segments name the section. */
export function breadcrumbsFor(pathname: string, leaf?: string): { text: string; href: string }[] {
  const crumbs = [{ text: "JIT", href: "/" }];
  const parts = pathname.split("/").filter(Boolean);
  const names: Record<string, string> = {
    request: "Request access",
    approvals: "Approvals",
    tickets: "Tickets",
    admin: "Organization",
    rules: "Approval rules",
    accounts: "Accounts and OUs",
    delegations: "Delegations",
    groups: "Permission set groups",
    "rule-changes": "Pending rule changes",
    drift: "Drift",
    settings: "Settings",
    audit: "Audit log",
    insights: "Insights",
  };
  if (parts.length === 0) return [...crumbs, { text: "My access", href: "/" }];
  let href = "";
  parts.forEach((part, i) => {
    href += `/${part}`;
    const last = i === parts.length - 1;
    crumbs.push({
      text: last && leaf ? leaf : (names[part] ?? decodeURIComponent(part)),
      href: part === "admin" ? "/admin/rules" : href,
    });
  });
  return crumbs;
}
