/**
 * Who is here decides the screen: no user on the server yet → setup; not signed in → sign-in;
 * else the app. A 401 anywhere later sends the person back to sign-in.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, api } from "./api/client.ts";
import type { User } from "./api/types.ts";
import { LoginPage } from "./auth/LoginPage.tsx";
import { SetupPage } from "./auth/SetupPage.tsx";
import { Shell } from "./Shell.tsx";
import { type Session, SessionContext } from "./session.tsx";
import { ErrorBox } from "./ui/ErrorBox.tsx";

type Gate =
  | { screen: "loading" }
  | { screen: "setup" }
  | { screen: "login" }
  | { screen: "app"; user: User }
  | { screen: "unreachable"; error: unknown };

async function whoIsHere(): Promise<Gate> {
  const { needs_first_user } = await api.setup();
  if (needs_first_user) return { screen: "setup" };
  try {
    const { user } = await api.me();
    return { screen: "app", user };
  } catch (error) {
    if (ApiError.isInstance(error) && error.status === 401) return { screen: "login" };
    throw error;
  }
}

export function App() {
  const [gate, setGate] = useState<Gate>({ screen: "loading" });
  const refresh = useCallback(async () => {
    try {
      setGate(await whoIsHere());
    } catch (error) {
      setGate({ screen: "unreachable", error });
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const session = useMemo<Session | null>(
    () =>
      gate.screen === "app"
        ? {
            user: gate.user,
            signOut: async () => {
              await api.logout().catch(() => undefined);
              setGate({ screen: "login" });
            },
          }
        : null,
    [gate],
  );

  switch (gate.screen) {
    case "loading":
      return <p className="center-page muted">Loading…</p>;
    case "unreachable":
      return (
        <main className="center-page">
          <div className="card">
            <h1>Keel is not answering</h1>
            <ErrorBox error={gate.error} />
            <button type="button" onClick={() => void refresh()}>
              Try again
            </button>
          </div>
        </main>
      );
    case "setup":
      return <SetupPage onDone={(user) => setGate({ screen: "app", user })} />;
    case "login":
      return <LoginPage onDone={() => void refresh()} />;
    case "app":
      return (
        <SessionContext.Provider value={session}>
          <Shell onSignedOut={() => setGate({ screen: "login" })} />
        </SessionContext.Provider>
      );
  }
}
