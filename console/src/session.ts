/**
 * Signing in: OpenID Connect (authorization code with PKCE, oidc-client-ts) against the provider the
 * gateway names in /console/config.json, or, in development mode, a development token for a user and
 * role picked on the sign-in screen. Who the token names (roles, agency, unit) is asked of the gateway
 * (/console/session), which reads the token as it reads every API request.
 */
import { UserManager, WebStorageStateStore } from "oidc-client-ts";

export interface ConsoleConfig {
  oidc: { issuer: string; client_id: string; scope: string } | null;
  dev_mode: boolean;
  tile_url: string | null;
}

export interface Identity {
  sub: string;
  name: string | null;
  roles: string[];
  agency: string | null;
  unit: string | null;
}

export interface Session {
  token: string;
  identity: Identity;
  via: "oidc" | "dev";
}

const KEY = "casewire.session";
const base = `${location.origin}/console/`;

export async function loadConfig(): Promise<ConsoleConfig> {
  const answer = await fetch("/console/config.json");
  if (!answer.ok) throw new Error(`the console's configuration did not load (${answer.status})`);
  return (await answer.json()) as ConsoleConfig;
}

let manager: UserManager | null = null;

function userManager(config: ConsoleConfig): UserManager | null {
  if (!config.oidc) return null;
  manager ??= new UserManager({
    authority: config.oidc.issuer,
    client_id: config.oidc.client_id,
    scope: config.oidc.scope,
    redirect_uri: base,
    post_logout_redirect_uri: base,
    response_type: "code", // PKCE is oidc-client-ts's default for the code flow
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    // Renews the access token before it expires with the refresh token the provider gave (no iframe).
    automaticSilentRenew: true,
  });
  return manager;
}

async function whoIs(token: string): Promise<Identity> {
  const answer = await fetch("/console/session", { headers: { Authorization: `Bearer ${token}` } });
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    throw new Error(problem.detail ?? `the gateway refused the sign-in (${answer.status})`);
  }
  return (await answer.json()) as Identity;
}

function keep(session: Session): Session {
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

/** The session this tab holds, or the one an OpenID Connect provider just sent it back with. */
export async function resume(config: ConsoleConfig): Promise<Session | null> {
  const manager = userManager(config);
  const query = new URLSearchParams(location.search);
  if (manager && query.has("code") && query.has("state")) {
    const user = await manager.signinRedirectCallback();
    history.replaceState(null, "", `${base}${location.hash}`);
    return keep({ token: user.access_token, identity: await whoIs(user.access_token), via: "oidc" });
  }
  const kept = sessionStorage.getItem(KEY);
  if (!kept) return null;
  const session = JSON.parse(kept) as Session;
  try {
    return keep({ ...session, identity: await whoIs(session.token) });
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

/** Calls `onToken` with each access token the provider renews, for as long as the tab is signed in. */
export function watchRenewals(config: ConsoleConfig, onToken: (token: string) => void): () => void {
  const users = userManager(config);
  if (!users) return () => undefined;
  const loaded = (user: { access_token: string }) => onToken(user.access_token);
  users.events.addUserLoaded(loaded);
  return () => users.events.removeUserLoaded(loaded);
}

/** The session with a renewed access token, kept for a reload. */
export function renewed(session: Session, token: string): Session {
  return keep({ ...session, token });
}

export async function signInWithProvider(config: ConsoleConfig): Promise<void> {
  await userManager(config)?.signinRedirect();
}

export async function signInForDevelopment(user: {
  sub: string;
  role: string;
  agency: string;
  unit: string;
}): Promise<Session> {
  const answer = await fetch("/console/dev-token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(user),
  });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.detail ?? `development sign-in failed (${answer.status})`);
  return keep({ token: body.token, identity: await whoIs(body.token), via: "dev" });
}

export async function signOut(config: ConsoleConfig, session: Session): Promise<void> {
  sessionStorage.removeItem(KEY);
  const manager = userManager(config);
  if (session.via === "oidc" && manager) {
    await manager.removeUser();
    await manager.signoutRedirect().catch(() => location.assign(base));
    return;
  }
  location.assign(base);
}
