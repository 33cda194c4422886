import { useEffect, useState } from "preact/hooks";

import { loadSession, MatrixClient, type Session } from "../matrix";
import { AuthScreen } from "./auth/AuthScreen";
import { place } from "./shell/context";
import { Shell } from "./shell/Shell";
import "./theme.css";

/** Logged out → the auth screen; logged in → the shell, syncing. */
export function App() {
  const [client, setClient] = useState<MatrixClient | null>(() => {
    const saved = loadSession();
    return saved ? new MatrixClient(saved) : null;
  });
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    if (!client) return;
    client.start();
    return () => client.stop();
  }, [client]);

  // The server ended the session (token revoked, logged out elsewhere); our own
  // "Log out" sets loggingOut first so it is not reported as a surprise.
  const [loggingOut, setLoggingOut] = useState(false);
  const endedByServer = client !== null && client.store.loggedOut.value && !loggingOut;
  useEffect(() => {
    if (!endedByServer) return;
    setClient(null);
    setNotice("You were logged out. Please log in again.");
  }, [endedByServer]);

  if (!client) {
    return (
      <AuthScreen
        notice={notice}
        onSession={(session: Session) => {
          place.value = { guild: null, channel: null };
          setNotice(null);
          setClient(new MatrixClient(session));
        }}
      />
    );
  }
  return (
    <Shell
      client={client}
      onLogout={() => {
        setLoggingOut(true);
        void client.logout().finally(() => {
          setNotice(null);
          setClient(null);
          setLoggingOut(false);
        });
      }}
    />
  );
}
