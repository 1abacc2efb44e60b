import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadConfig, resume } from "./session";
import "./style.css";

const root = createRoot(document.getElementById("root")!);

async function start() {
  try {
    const config = await loadConfig();
    const session = await resume(config);
    root.render(
      <StrictMode>
        <App config={config} initial={session} />
      </StrictMode>,
    );
  } catch (error) {
    root.render(
      <main className="boot-error">
        <h1>Casewire console</h1>
        <p role="alert">The console could not start: {error instanceof Error ? error.message : String(error)}</p>
      </main>,
    );
  }
}

void start();
