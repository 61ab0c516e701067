/** The signed-in user, for every screen: who they are, and how to sign out. */
import { createContext, useContext } from "react";
import type { User } from "./api/types.ts";

export interface Session {
  user: User;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside a signed-in screen");
  return session;
}
