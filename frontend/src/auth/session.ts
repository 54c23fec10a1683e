/**
 * The one place the console knows how it is signed in.
 *
 * For now a bearer token (printed by `jit demo` or `jit token create`) is kept in
 * sessionStorage and sent as `Authorization: Bearer`. OIDC sign-in will replace this
 * module: the rest of the console only calls these functions.
 */

const KEY = "jit.token";

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

export function isSignedIn(): boolean {
  return !!getToken();
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The graphql-transport-ws connection_init payload. */
export function connectionParams(): Record<string, string> {
  return authHeaders();
}
