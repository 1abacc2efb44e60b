/**
 * The console's build: served by the gateway at /console/ (gateway/console.py), every asset local.
 *
 * `@casewire/client` is the typed client of clients/typescript, compiled from its sources here, and
 * `virtual:casewire-roles` is the role list of each operation as the gateway's OpenAPI document states
 * it (`x-casewire-roles`), so the console shows an action only to the roles the gateway would let
 * through, without a copy of the permission table to drift.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// `npm run dev` serves the sources with the API and the gateway's console endpoints of a running gateway.
const GATEWAY = process.env.CASEWIRE_URL ?? "http://127.0.0.1:8080";
const CLIENT = fileURLToPath(new URL("../clients/typescript/", import.meta.url));
const ROLES_ID = "virtual:casewire-roles";

function casewireRoles(): Plugin {
  return {
    name: "casewire-roles",
    resolveId: (id) => (id === ROLES_ID ? `\0${ROLES_ID}` : undefined),
    load(id) {
      if (id !== `\0${ROLES_ID}`) return undefined;
      const document = JSON.parse(readFileSync(`${CLIENT}openapi.json`, "utf8"));
      this.addWatchFile(`${CLIENT}openapi.json`);
      const roles: Record<string, string[]> = {};
      for (const [path, operations] of Object.entries<Record<string, { "x-casewire-roles"?: string[] }>>(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (operation["x-casewire-roles"]) roles[`${method.toUpperCase()} ${path}`] = operation["x-casewire-roles"];
        }
      }
      return `export default ${JSON.stringify(roles)};`;
    },
  };
}

export default defineConfig({
  base: "/console/",
  plugins: [react(), casewireRoles()],
  resolve: {
    alias: { "@casewire/client": `${CLIENT}src/index.ts` },
    dedupe: ["openapi-fetch"],
  },
  build: { outDir: "dist", sourcemap: false, assetsInlineLimit: 0 },
  server: {
    proxy: Object.fromEntries(
      ["/api", "/console/config.json", "/console/session", "/console/dev-token"].map((path) => [path, GATEWAY]),
    ),
  },
});
