import { useState, type FormEvent } from "react";
import { signInForDevelopment, signInWithProvider, type ConsoleConfig, type Session } from "../session";

const ROLES = ["analyst", "detective", "supervisor", "auditor", "admin", "purge_authority"];

export function SignIn({ config, onSignedIn }: { config: ConsoleConfig; onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [user, setUser] = useState({ sub: "analyst1", role: "analyst", agency: "TX0000000", unit: "rtcc" });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signInForDevelopment(user));
      if (!location.hash) location.hash = "#/";
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <h1>Casewire console</h1>
      {config.oidc && (
        <section aria-labelledby="provider">
          <h2 id="provider">Sign in</h2>
          <p>You sign in with your agency's account.</p>
          <button type="button" className="primary" onClick={() => void signInWithProvider(config)}>
            Sign in with your agency
          </button>
        </section>
      )}
      {config.dev_mode && (
        <section aria-labelledby="dev">
          <h2 id="dev">Development sign-in</h2>
          <p className="warning">
            Development mode: anyone here may pick any user and role. Never run a gateway in development mode with
            real data.
          </p>
          <form onSubmit={(event) => void submit(event)}>
            <label>
              User
              <input value={user.sub} onChange={(e) => setUser({ ...user, sub: e.target.value })} required />
            </label>
            <label>
              Role
              <select value={user.role} onChange={(e) => setUser({ ...user, role: e.target.value })}>
                {ROLES.map((role) => (
                  <option key={role}>{role}</option>
                ))}
              </select>
            </label>
            <label>
              Agency (ORI)
              <input value={user.agency} onChange={(e) => setUser({ ...user, agency: e.target.value })} />
            </label>
            <label>
              Unit
              <input value={user.unit} onChange={(e) => setUser({ ...user, unit: e.target.value })} />
            </label>
            <button type="submit" className="primary" disabled={busy}>
              Sign in as this user
            </button>
          </form>
        </section>
      )}
      {!config.oidc && !config.dev_mode && (
        <p role="alert">No sign-in is configured: the gateway names no identity provider and is not in development mode.</p>
      )}
      {error && <p role="alert" className="error">{error}</p>}
    </main>
  );
}
