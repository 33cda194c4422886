import { useState } from "preact/hooks";

import { discover, errorMessage, login, register, serverNameOf, type Session } from "../../matrix";
import { ErrorText } from "../common/Dialog";

/**
 * Log in or create an account on any homeserver. The homeserver field defaults to the
 * server that served this page; a server name there (or a full @user:server typed as
 * the username while the field is left at its default) is found by discovery
 * (spec: client-server "Server Discovery").
 */
export function AuthScreen(props: { onSession: (session: Session) => void; notice?: string | null }) {
  const origin = window.location.origin;
  const [mode, setMode] = useState<"login" | "register">("login");
  const [server, setServer] = useState(origin);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!username.trim() || !password) {
      setError("Enter a username and a password.");
      return;
    }
    if (mode === "register" && password !== confirm) {
      setError("The two passwords don't match.");
      return;
    }
    setBusy(true);
    try {
      // A full user id names its server unless the user changed the homeserver field.
      const where = server.trim() === origin && username.trim().startsWith("@") ? username.trim() : server.trim() || origin;
      const baseUrl = where === origin ? origin : (await discover(where)).baseUrl;
      const session =
        mode === "login"
          ? await login(baseUrl, username.trim(), password)
          : await register(baseUrl, username.trim(), password, token.trim() ? { registrationToken: token.trim() } : {});
      props.onSession(session);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  const registering = mode === "register";
  return (
    <main class="auth-screen">
      <form class="auth-card" onSubmit={submit} aria-label={registering ? "Create an account" : "Log in"}>
        <h1>{registering ? "Create an account" : "Welcome back!"}</h1>
        {props.notice ? <p role="status">{props.notice}</p> : null}
        <label>
          Homeserver
          <input value={server} onInput={(e) => setServer(e.currentTarget.value)} autoComplete="url" />
        </label>
        <label>
          Username
          <input
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            autoComplete="username"
            placeholder={registering ? "name" : `name or @name:${serverNameOf(new URL(origin).host)}`}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            autoComplete={registering ? "new-password" : "current-password"}
          />
        </label>
        {registering ? (
          <>
            <label>
              Confirm password
              <input type="password" value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} autoComplete="new-password" />
            </label>
            <label>
              Registration token (if the server asks for one)
              <input value={token} onInput={(e) => setToken(e.currentTarget.value)} />
            </label>
          </>
        ) : null}
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Please wait…" : registering ? "Create account" : "Log in"}
        </button>
        <p class="switch">
          {registering ? "Already have an account? " : "Need an account? "}
          <button
            type="button"
            class="link"
            onClick={() => {
              setMode(registering ? "login" : "register");
              setError(null);
            }}
          >
            {registering ? "Log in" : "Register"}
          </button>
        </p>
      </form>
    </main>
  );
}
