import { createContext, useContext } from "react";
import type { MeQuery } from "../graphql/generated/graphql";

export type Me = MeQuery["me"];

export const MeContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe outside a signed-in page");
  return me;
}

export function isAdmin(me: Me): boolean {
  return me.roles.includes("ADMIN");
}
