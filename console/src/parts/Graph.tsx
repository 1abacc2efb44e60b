import cytoscape from "cytoscape";
import { useEffect, useRef } from "react";
import type { Schemas } from "../api";
import { href } from "../router";

type Graph = Schemas["Graph"];

const COLORS: Record<string, string> = { entity: "#0b57d0", alert: "#b3261e", case: "#5b2a86" };

/** The link graph n hops out, drawn by cytoscape.js; the list below it is the same graph as text. */
export default function LinkGraph({ graph }: { graph: Graph }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return;
    const ids = new Set(graph.nodes.map((node) => node.id));
    const view = cytoscape({
      container: element.current,
      elements: [
        ...graph.nodes.map((node) => ({
          data: { id: node.id, label: node.display ?? `${node.kind} ${node.id.slice(0, 6)}`, kind: node.kind },
        })),
        ...graph.edges
          .filter((edge) => ids.has(edge.source) && ids.has(edge.target))
          .map((edge, index) => ({ data: { id: `e${index}`, source: edge.source, target: edge.target, kind: edge.kind } })),
      ],
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            "font-size": 10,
            "background-color": (node: cytoscape.NodeSingular) => COLORS[node.data("kind") as string] ?? "#555",
          },
        },
        { selector: "edge", style: { width: 1.5, "line-color": "#888", "curve-style": "bezier" } },
      ],
      layout: { name: "breadthfirst", directed: false, padding: 10 },
    });
    view.on("tap", "node", (event) => {
      const kind = event.target.data("kind") as string;
      location.hash = href(kind === "entity" ? "entities" : `${kind}s`, event.target.id());
    });
    return () => view.destroy();
  }, [graph]);
  return (
    <figure>
      <div ref={element} className="graph" />
      <figcaption>
        {graph.nodes.length} records and entities, {graph.edges.length} links{graph.truncated ? " (cut at the limit)" : ""}.
      </figcaption>
    </figure>
  );
}
