import { lazy, Suspense, useEffect, useMemo, useRef, useState } from "react";
import { ApiContext, makeApi, type Api } from "./api";
import { href, useRoute } from "./router";
import { renewed, signOut, watchRenewals, type ConsoleConfig, type Session } from "./session";
import { SignIn } from "./screens/SignIn";
import { Queue } from "./screens/Queue";

const AlertScreen = lazy(() => import("./screens/Alert"));
const CaseScreen = lazy(() => import("./screens/CaseFile"));
const EntityScreen = lazy(() => import("./screens/Entity"));
const PlatesScreen = lazy(() => import("./screens/Plates"));
const SupervisorScreen = lazy(() => import("./screens/Supervisor"));
const AuditorScreen = lazy(() => import("./screens/Auditor"));
const PurgeScreen = lazy(() => import("./screens/Purge"));

interface Screen {
  path: string;
  label: string;
  operation: string; // shown to the roles that may call it
}

const SCREENS: Screen[] = [
  { path: "queue", label: "Alert queue", operation: "GET /api/v1/alerts" },
  { path: "plates", label: "Plate search", operation: "GET /api/v1/search/plates" },
  { path: "supervisor", label: "Supervisor", operation: "GET /api/v1/cases/review-queue" },
  { path: "auditor", label: "Auditor", operation: "GET /api/v1/audit/events" },
  { path: "purge", label: "Holds and purges", operation: "POST /api/v1/cases/{case_id}/purge" },
];

export function App({ config, initial }: { config: ConsoleConfig; initial: Session | null }) {
  const [session, setSession] = useState(initial);
  const current = useRef(session);
  current.current = session;
  const signedIn = session ? `${session.via}:${session.identity.sub}` : null;
  const api = useMemo(
    () => (signedIn ? makeApi(() => current.current!, config.tile_url) : null),
    [signedIn, config.tile_url],
  );
  const oidc = session?.via === "oidc";
  useEffect(
    () => (oidc ? watchRenewals(config, (token) => setSession((now) => (now ? renewed(now, token) : now))) : undefined),
    [oidc, config],
  );
  if (!session || !api) return <SignIn config={config} onSignedIn={setSession} />;
  return (
    <ApiContext.Provider value={api}>
      <Shell api={api} config={config} />
    </ApiContext.Provider>
  );
}

function Shell({ api, config }: { api: Api; config: ConsoleConfig }) {
  const route = useRoute();
  const screens = SCREENS.filter((screen) => api.may(screen.operation));
  const [first = screens[0]?.path ?? "", id = ""] = route;
  const { identity } = api.session;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Casewire</span>
        <nav aria-label="Screens">
          <ul>
            {screens.map((screen) => (
              <li key={screen.path}>
                <a href={href(screen.path)} aria-current={first === screen.path ? "page" : undefined}>
                  {screen.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" data-testid="who">
          {identity.name ?? identity.sub} · {identity.roles.join(", ")}
          {identity.agency ? ` · ${identity.agency}` : ""}
          {identity.unit ? `/${identity.unit}` : ""}
        </span>
        <button type="button" onClick={() => void signOut(config, api.session)}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p>Loading…</p>}>
          {SCREENS.some((s) => s.path === first) && !screens.some((s) => s.path === first) ? (
            <p role="alert">Your roles may not use this screen.</p>
          ) : (
            screen(first, id, screens)
          )}
        </Suspense>
      </main>
    </>
  );
}

function screen(first: string, id: string, screens: Screen[]) {
  switch (first) {
    case "queue":
      return <Queue />;
    case "alerts":
      return <AlertScreen key={id} alertId={id} />;
    case "cases":
      return <CaseScreen key={id} caseId={id} />;
    case "entities":
      return <EntityScreen key={id} entityId={id} />;
    case "plates":
      return <PlatesScreen />;
    case "supervisor":
      return <SupervisorScreen />;
    case "auditor":
      return <AuditorScreen />;
    case "purge":
      return <PurgeScreen />;
    default:
      return screens.length ? (
        <p>Nothing here. Pick a screen above.</p>
      ) : (
        <p role="status">Your roles have no screen in this console.</p>
      );
  }
}
