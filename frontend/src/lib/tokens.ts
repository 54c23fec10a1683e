/** API token helpers for the Settings page. */

export const TOKEN_SCOPES = ["READ", "REQUEST", "DECIDE", "ADMIN"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface TokenLike {
  expiresAt?: string | null;
  revokedAt?: string | null;
}

export function tokenState(t: TokenLike, now: Date): "active" | "expired" | "revoked" {
  if (t.revokedAt) return "revoked";
  if (t.expiresAt && new Date(t.expiresAt) <= now) return "expired";
  return "active";
}

/**
 * Checks the create form; returns field errors and the expiry instant to send. No days
 * sends no expiry: the server then ends the token with the sign-in that mints it, which
 * it may never outlive anyway.
 */
export function checkTokenForm(
  form: { name: string; scopes: string[]; days: string },
  now: Date,
): { errors: Record<string, string>; expiresAt: string | null } {
  const errors: Record<string, string> = {};
  if (!form.name.trim()) errors.name = "Name the token after what will use it.";
  if (!form.scopes.length) errors.scopes = "Choose at least one scope.";
  if (!form.days.trim()) return { errors, expiresAt: null };
  const days = Number(form.days);
  let expiresAt: string | null = null;
  if (!Number.isInteger(days) || days < 1) errors.expiresAt = "Enter a whole number of days, at least 1, or nothing.";
  else expiresAt = new Date(now.getTime() + days * 86400_000).toISOString();
  return { errors, expiresAt };
}
