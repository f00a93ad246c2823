import { Link } from "@tanstack/react-router";
import { useMemo } from "react";
import type { LineageGraph } from "../lib/types";
import { availabilityName } from "../lib/words";
import { BOX, layOut, type PlacedProduct } from "./lineageLayout";

// Runs in the browser (the lineage's own chunk). The lineage drawn as a graph, for the
// eye: boxes for products, arrows from what a product was derived from to what was made
// of it. The nested lists beside it say the same in words and carry the keyboard and
// screen-reader links, so the drawing is hidden from assistive technology and its boxes
// are links for the pointer only (tabindex -1: no second tab stop per product).

const PAD = 10;

function Box({ placed }: { placed: PlacedProduct }) {
  const { node, x, y, label, focus } = placed;
  const second = focus
    ? "this product"
    : node.availability === "listed"
      ? null
      : availabilityName(node.availability).toLowerCase();
  const body = (
    <>
      <title>{node.title}</title>
      <rect
        className={focus ? "m-graph-box m-graph-focus" : "m-graph-box"}
        x={x}
        y={y}
        width={BOX.width}
        height={BOX.height}
        rx={6}
      />
      <text className="m-graph-title" x={x + PAD} y={y + (second ? 20 : 29)}>
        {label}
      </text>
      {second && (
        <text className="m-graph-note" x={x + PAD} y={y + 38}>
          {second}
        </text>
      )}
    </>
  );
  if (focus) return <g>{body}</g>;
  return (
    <Link to="/products/$productId" params={{ productId: node.id }} tabIndex={-1}>
      {body}
    </Link>
  );
}

export function LineageDiagram({ graph }: { graph: LineageGraph }) {
  const drawing = useMemo(() => layOut(graph), [graph]);
  const generations = new Set(graph.nodes.map((node) => node.depth)).size;
  return (
    <figure className="m-graph">
      <svg
        aria-hidden="true"
        focusable="false"
        width={drawing.width}
        height={drawing.height}
        viewBox={`0 0 ${drawing.width} ${drawing.height}`}
      >
        <defs>
          <marker
            id="m-graph-arrow"
            viewBox="0 0 10 10"
            refX={10}
            refY={5}
            markerWidth={7}
            markerHeight={7}
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" className="m-graph-arrowhead" />
          </marker>
        </defs>
        {drawing.lines.map((line) => (
          <path
            key={`${line.parent}>${line.child}`}
            className="m-graph-line"
            d={line.path}
            markerEnd="url(#m-graph-arrow)"
          />
        ))}
        {drawing.products.map((placed) => (
          <Box key={placed.node.id} placed={placed} />
        ))}
      </svg>
      <figcaption className="m-muted">
        {graph.nodes.length} products over {generations} generations, oldest on the left; the lists
        below name them.
      </figcaption>
    </figure>
  );
}
