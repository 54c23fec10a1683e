import { afterEach, describe, expect, it } from "vitest";
import { authHeaders, connectionParams, cookieValue, csrfToken, forgetSession, isSignedIn, signIn } from "./session";

function setCookie(value: string) {
  document.cookie = value;
}

afterEach(() => {
  sessionStorage.clear();
  for (const name of ["jit_csrf", "__Host-jit_csrf"])
    document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
});

describe("session", () => {
  it("reads cookies by exact name", () => {
    expect(cookieValue("a=1; jit_csrf=x%3Dy; jit_csrf2=z", "jit_csrf")).toBe("x=y");
    expect(cookieValue("a=1", "jit_csrf")).toBeNull();
    expect(csrfToken("__Host-jit_csrf=h; jit_csrf=p")).toBe("h");
  });

  it("sends the CSRF header and csrfToken for a cookie session", () => {
    expect(isSignedIn()).toBe(false);
    setCookie("jit_csrf=abc");
    expect(isSignedIn()).toBe(true);
    expect(authHeaders()).toEqual({ "X-JIT-CSRF": "abc" });
    expect(connectionParams()).toEqual({ csrfToken: "abc" });
  });

  it("prefers a pasted token, sent as a bearer", () => {
    setCookie("jit_csrf=abc");
    signIn(" jit_tok ");
    expect(authHeaders()).toEqual({ Authorization: "Bearer jit_tok" });
    expect(connectionParams()).toEqual({ Authorization: "Bearer jit_tok" });
  });

  it("treats a refused session as signed out until a new one is made", () => {
    setCookie("jit_csrf=old");
    forgetSession();
    expect(isSignedIn()).toBe(false);
    setCookie("jit_csrf=new");
    expect(isSignedIn()).toBe(true);
  });
});
