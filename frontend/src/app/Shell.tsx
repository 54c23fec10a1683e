import { useContext, useState, type ReactNode } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import AppLayout from "@cloudscape-design/components/app-layout";
import BreadcrumbGroup from "@cloudscape-design/components/breadcrumb-group";
import Flashbar from "@cloudscape-design/components/flashbar";
import SideNavigation from "@cloudscape-design/components/side-navigation";
import TopNavigation from "@cloudscape-design/components/top-navigation";
import { breadcrumbsFor, navigationItems } from "./navigation";
import { useNotifications } from "./notifications";
import { isAdmin, MeContext, useMe } from "./me";
import { usePreferences } from "./preferences";

export function TopBar({ onSignOut }: { onSignOut?: () => void }) {
  const [prefs, setPrefs] = usePreferences();
  const navigate = useNavigate();
  const me = useMeOrNull();
  const utilities = [
    {
      type: "button" as const,
      text: prefs.dark ? "Light mode" : "Dark mode",
      ariaLabel: prefs.dark ? "Switch to light mode" : "Switch to dark mode",
      onClick: () => setPrefs({ ...prefs, dark: !prefs.dark }),
    },
    {
      type: "button" as const,
      text: prefs.compact ? "Comfortable" : "Compact",
      ariaLabel: prefs.compact ? "Switch to comfortable density" : "Switch to compact density",
      onClick: () => setPrefs({ ...prefs, compact: !prefs.compact }),
    },
  ];
  return (
    <div id="top-nav" style={{ position: "sticky", top: 0, zIndex: 1002 }}>
      <TopNavigation
        identity={{
          href: "/",
          title: "JIT access",
          onFollow: (e) => {
            e.preventDefault();
            navigate("/");
          },
        }}
        utilities={
          me && onSignOut
            ? [
                ...utilities,
                {
                  type: "menu-dropdown",
                  text: me.user.displayName || me.user.userName,
                  description: me.user.userName,
                  iconName: "user-profile",
                  items: [{ id: "signout", text: "Sign out" }],
                  onItemClick: (e) => e.detail.id === "signout" && onSignOut(),
                },
              ]
            : utilities
        }
      />
    </div>
  );
}

function useMeOrNull() {
  return useContext(MeContext);
}

export function Shell({ children, onSignOut, leaf }: { children: ReactNode; onSignOut: () => void; leaf?: string }) {
  const location = useLocation();
  const navigate = useNavigate();
  const me = useMe();
  const { items } = useNotifications();
  const [navOpen, setNavOpen] = useState(true);
  const follow = (e: CustomEvent<{ href: string; external?: boolean }>) => {
    if (!e.detail.external) {
      e.preventDefault();
      navigate(e.detail.href);
    }
  };
  return (
    <>
      <TopBar onSignOut={onSignOut} />
      <AppLayout
        headerSelector="#top-nav"
        navigationOpen={navOpen}
        onNavigationChange={(e) => setNavOpen(e.detail.open)}
        navigation={
          <SideNavigation
            header={{ text: "JIT access", href: "/" }}
            activeHref={activeHref(location.pathname)}
            items={navigationItems(isAdmin(me), me.roles.includes("AUDITOR"))}
            onFollow={follow}
          />
        }
        breadcrumbs={
          <BreadcrumbGroup items={breadcrumbsFor(location.pathname, leaf)} ariaLabel="Breadcrumbs" onFollow={follow} />
        }
        notifications={<Flashbar items={items} stackItems={items.length > 2} />}
        toolsHide
        content={children}
        ariaLabels={{
          navigation: "Navigation",
          navigationClose: "Close navigation",
          navigationToggle: "Open navigation",
          notifications: "Notifications",
        }}
      />
    </>
  );
}

function activeHref(pathname: string): string {
  if (pathname.startsWith("/tickets")) return "/tickets";
  if (pathname.startsWith("/admin/rules")) return "/admin/rules";
  if (pathname.startsWith("/admin/groups")) return "/admin/groups";
  return pathname;
}
