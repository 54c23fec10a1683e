/**
 * The one place the console knows how it is signed in.
 *
 * A browser signs in with a session cookie (OIDC at /auth/login, or the demo user
 * picker): the session secret is an HttpOnly cookie the script never sees, and every
 * request carries the readable CSRF cookie's value in the X-JIT-CSRF header (HTTP) or as
 * `csrfToken` in the websocket's connection_init. An API token pasted on the sign-in page
 * is still accepted for scripts and debugging: it lives in this tab's sessionStorage and
 * is sent as `Authorization: Bearer`, and it wins over a cookie.
 */

const TOKEN_KEY = "jit.token";
export const CSRF_HEADER = "X-JIT-CSRF";
// Over https the server names its cookies with the __Host- prefix.
const CSRF_COOKIES = ["__Host-jit_csrf", "jit_csrf"];

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keep an API token for this tab. */
export function signIn(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function cookieValue(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

export function csrfToken(cookies: string = document.cookie): string | null {
  for (const name of CSRF_COOKIES) {
    const value = cookieValue(cookies, name);
    if (value) return value;
  }
  return null;
}

// The CSRF value of a session the server refused: its cookie may outlive it.
let refusedCsrf: string | null = null;

/** A token, or what looks like a live cookie session; a 401 from the API says otherwise. */
export function isSignedIn(): boolean {
  if (getToken()) return true;
  const csrf = csrfToken();
  return !!csrf && csrf !== refusedCsrf;
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  if (token) return { Authorization: `Bearer ${token}` };
  const csrf = csrfToken();
  return csrf ? { [CSRF_HEADER]: csrf } : {};
}

/** The graphql-transport-ws connection_init payload. */
export function connectionParams(): Record<string, string> {
  const token = getToken();
  if (token) return { Authorization: `Bearer ${token}` };
  const csrf = csrfToken();
  return csrf ? { csrfToken: csrf } : {};
}

/** Forget the token; end the cookie session on the server (which clears the cookies). */
export async function signOut(): Promise<void> {
  sessionStorage.removeItem(TOKEN_KEY);
  const csrf = csrfToken();
  if (!csrf) return;
  refusedCsrf = csrf;
  try {
    await fetch("/auth/logout", { method: "POST", credentials: "same-origin", headers: { [CSRF_HEADER]: csrf } });
  } catch {
    // Offline: the cookie still expires on its own.
  }
}

/** Forget local state only (the server already refused the session). */
export function forgetSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  refusedCsrf = csrfToken();
}

export interface DemoUser {
  userName: string;
  displayName: string;
}

/** The demo users, or null when the server is not in demo mode (the route is a 404 then). */
export async function demoUsers(): Promise<DemoUser[] | null> {
  try {
    const res = await fetch("/auth/demo", { credentials: "same-origin" });
    if (!res.ok) return null;
    return ((await res.json()) as { users: DemoUser[] }).users;
  } catch {
    return null;
  }
}

export async function demoSignIn(userName: string): Promise<string | null> {
  const res = await fetch("/auth/demo", {
    method: "POST",
    credentials: "same-origin",
    // The server wants the header to be present: a cross-site form cannot send it.
    headers: { "content-type": "application/json", [CSRF_HEADER]: "demo" },
    body: JSON.stringify({ userName }),
  });
  if (res.ok) return null;
  try {
    return ((await res.json()) as { errors: { message: string }[] }).errors[0].message;
  } catch {
    return `The server answered ${res.status}.`;
  }
}

/** Whether single sign-on is configured: /auth/login redirects to the provider, or is a 404. */
export async function ssoAvailable(): Promise<boolean> {
  try {
    const res = await fetch("/auth/login", { redirect: "manual", credentials: "same-origin" });
    return res.type === "opaqueredirect" || (res.status >= 300 && res.status < 400);
  } catch {
    return false;
  }
}

export function ssoLoginUrl(returnTo: string): string {
  return `/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
}
