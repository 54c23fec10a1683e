import type { SideNavigationProps } from "@cloudscape-design/components/side-navigation";

/**
 * The console's sections. Later pages (delegations, permission set groups, settings,
 * API tokens) add an entry here and a route in routes.tsx; nothing else changes.
 */
export function navigationItems(_admin: boolean): SideNavigationProps.Item[] {
  const items: SideNavigationProps.Item[] = [
    { type: "link", text: "My access", href: "/" },
    { type: "link", text: "Request access", href: "/request" },
    { type: "link", text: "Approvals", href: "/approvals" },
    { type: "link", text: "Tickets", href: "/tickets" },
    { type: "link", text: "Delegations", href: "/delegations" },
    { type: "divider" },
    {
      // Rules and the directory are readable by everyone; admin-only pages (settings,
      // permission set groups) will join this section when _admin is true.
      type: "section",
      text: "Organization",
      items: [
        { type: "link", text: "Approval rules", href: "/admin/rules" },
        { type: "link", text: "Accounts and OUs", href: "/admin/accounts" },
      ],
    },
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
    settings: "Settings",
  };
  if (parts.length === 0) return [...crumbs, { text: "My access", href: "/" }];
  let href = "";
  parts.forEach((part, i) => {
    href += `/${part}`;
    const last = i === parts.length - 1;
    crumbs.push({ text: last && leaf ? leaf : names[part] ?? decodeURIComponent(part), href: part === "admin" ? "/admin/rules" : href });
  });
  return crumbs;
}
