/**
 * The real-time stream (`GET /api/v1/stream`, Server-Sent Events) through the typed client: the
 * browser's EventSource cannot send a bearer token. Reconnects with `Last-Event-ID` when the gateway
 * closes the connection (every STREAM_MAX_SECONDS) or the network drops.
 */
import { useEffect, useRef } from "react";
import { useApi } from "./api";

export interface StreamEvent {
  id: string | null;
  event: string;
  data: Record<string, unknown>;
}

const RETRY_MS = 2000;

export function useStream(onEvent: (event: StreamEvent) => void, onState?: (open: boolean) => void): void {
  const api = useApi();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const stateHandler = useRef(onState);
  stateHandler.current = onState;
  const streams = api.may("GET /api/v1/stream");
  const lastId = useRef<string | null>(null); // a reconnect resumes after the last event seen

  useEffect(() => {
    if (!streams) return;
    const stop = new AbortController();
    const run = async () => {
      while (!stop.signal.aborted) {
        try {
          const { response } = await api.client().GET("/api/v1/stream", {
            headers: lastId.current ? { "Last-Event-ID": lastId.current } : {},
            parseAs: "stream",
            signal: stop.signal,
          });
          if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
          stateHandler.current?.(true);
          await read(response.body, (event) => {
            if (event.id) lastId.current = event.id;
            handler.current(event);
          });
        } catch {
          if (stop.signal.aborted) return;
        }
        stateHandler.current?.(false);
        await new Promise((done) => setTimeout(done, RETRY_MS));
      }
    };
    void run();
    return () => stop.abort();
  }, [api, streams]);
}

async function read(body: ReadableStream<Uint8Array>, emit: (event: StreamEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: string | null = null;
      let event = "message";
      const data: string[] = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith(":")) continue; // a keepalive
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = text;
        else if (field === "event") event = text;
        else if (field === "data") data.push(text);
      }
      if (!data.length) continue;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch {
        continue; // a frame that is not JSON is not one of the gateway's events
      }
      emit({ id, event, data: parsed });
    }
  }
}
