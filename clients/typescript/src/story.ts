/**
 * The seed's story through the typed client, against a running gateway: a plate is read near a
 * homicide in January, the read becomes the homicide case and the case names the vehicle; the same
 * plate is read near a burglary in March, and the March alert's answer names the January alert and
 * its case.
 *
 *     CASEWIRE_URL=http://127.0.0.1:8080 CASEWIRE_TOKEN=... node dist/story.js [PLATE]
 *
 * The token is a detective's (roles `detective`). Prints one JSON line: the ids and what March named.
 */
import { answer, casewireClient, type Schemas } from "./index.js";

type Alert = Schemas["AlertSubmitted"];

const baseUrl = process.env.CASEWIRE_URL ?? "http://127.0.0.1:8080";
const token = process.env.CASEWIRE_TOKEN;
if (!token) throw new Error("set CASEWIRE_TOKEN to a detective's bearer token");
const plate = process.argv[2] ?? "KGT4471";
const run = Date.now().toString(36);
const casewire = casewireClient({ baseUrl, token });

function read(eventId: string, occurredAt: string, where: Schemas["AlertLocation"], notes: string) {
  return {
    source: "alpr" as const,
    source_system: "flock-houston",
    source_event_id: `${run}-${eventId}`,
    occurred_at: occurredAt,
    location: where,
    payload: { plate, plate_state: "TX", camera_id: `flock-cam-${eventId}` },
    notes,
  };
}

async function submit(body: ReturnType<typeof read>): Promise<Alert> {
  return answer(await casewire.POST("/api/v1/alerts", { body }));
}

const january = await submit(
  read(
    "0114",
    "2026-01-14T23:41:00-06:00",
    { lat: 29.7499, lon: -95.3584, address: "2400 block of Rusk St" },
    "Read 600 m from the homicide scene, 14 minutes after the shots.",
  ),
);
const homicide = answer(
  await casewire.POST("/api/v1/alerts/{alert_id}/promote", {
    params: { path: { alert_id: january.id } },
    body: { title: "Homicide, 2400 block of Rusk St", type: "homicide", priority: "high" },
  }),
);
const vehicle = january.entities.find((entity) => entity.type === "vehicle");
if (!vehicle) throw new Error(`the January read named no vehicle: ${JSON.stringify(january.entities)}`);
answer(
  await casewire.POST("/api/v1/cases/{case_id}/entities", {
    params: { path: { case_id: homicide.id } },
    body: { entity_id: vehicle.id, role: "vehicle_of_interest" },
  }),
);
const march = await submit(
  read(
    "0318",
    "2026-03-18T03:02:00-05:00",
    { lat: 29.7391, lon: -95.3402, address: "Navigation Blvd at N Hutcheson St" },
    "Read outside the pharmacy break-in, 3 minutes before the alarm.",
  ),
);
const named = march.related.map((record) => ({ record_type: record.record_type, id: record.id }));
console.log(JSON.stringify({ plate, january: january.id, case: homicide.id, vehicle: vehicle.id, march: march.id, named }));
const namesJanuary = named.some((r) => r.record_type === "alert" && r.id === january.id);
const namesCase = named.some((r) => r.record_type === "case" && r.id === homicide.id);
if (!namesJanuary || !namesCase) {
  console.error("the March alert does not name the January alert and its case");
  process.exit(1);
}
