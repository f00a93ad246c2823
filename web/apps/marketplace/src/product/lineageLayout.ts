import dagre from "@dagrejs/dagre";
import type { LineageGraph, LineageNode } from "../lib/types";

// Runs in the browser (the lineage's own chunk). Where each product of a lineage sits
// in the drawing: a layered layout (Sugiyama's method, as @dagrejs/dagre does it) from
// the oldest ancestors on the left to the latest derived products on the right, with
// as few crossing lines as it finds.

export const BOX = { width: 220, height: 48 } as const;
const GAP = { between: 18, generations: 56, margin: 8 } as const;
/** Titles longer than this are shortened in the box (the whole title is its tooltip). */
const TITLE_CHARS = 24;

export interface PlacedProduct {
  node: LineageNode;
  /** the box's top-left corner */
  x: number;
  y: number;
  /** the title as it fits the box */
  label: string;
  /** the product whose page this is */
  focus: boolean;
}

export interface PlacedLine {
  parent: string;
  child: string;
  /** an SVG path from the parent's box to the child's */
  path: string;
}

export interface LineageDrawing {
  width: number;
  height: number;
  products: PlacedProduct[];
  lines: PlacedLine[];
}

export function shorten(title: string, chars = TITLE_CHARS): string {
  return title.length <= chars ? title : `${title.slice(0, chars - 1).trimEnd()}…`;
}

function pathThrough(points: { x: number; y: number }[]): string {
  const [first, ...rest] = points;
  if (first === undefined) return "";
  return [`M${first.x},${first.y}`, ...rest.map((p) => `L${p.x},${p.y}`)].join(" ");
}

/** The lineage as boxes and lines; edges naming a product the graph does not list are
 * left out (the list beside the drawing still names them). */
export function layOut(graph: LineageGraph): LineageDrawing {
  const layout = new dagre.graphlib.Graph();
  layout.setGraph({
    rankdir: "LR",
    nodesep: GAP.between,
    ranksep: GAP.generations,
    marginx: GAP.margin,
    marginy: GAP.margin,
  });
  layout.setDefaultEdgeLabel(() => ({}));
  const known = new Map(graph.nodes.map((node) => [node.id, node]));
  for (const node of graph.nodes) layout.setNode(node.id, { ...BOX });
  const edges = graph.edges.filter(
    (edge) => known.has(edge.parent) && known.has(edge.child) && edge.parent !== edge.child,
  );
  for (const edge of edges) layout.setEdge(edge.parent, edge.child);
  dagre.layout(layout);

  const products = graph.nodes.map((node): PlacedProduct => {
    const placed = layout.node(node.id);
    return {
      node,
      x: (placed.x ?? 0) - BOX.width / 2,
      y: (placed.y ?? 0) - BOX.height / 2,
      label: shorten(node.title),
      focus: node.id === graph.product,
    };
  });
  const lines = edges.map((edge): PlacedLine => {
    const points = layout.edge(edge.parent, edge.child)?.points ?? [];
    return { parent: edge.parent, child: edge.child, path: pathThrough(points) };
  });
  const size = layout.graph();
  return { width: size.width ?? 0, height: size.height ?? 0, products, lines };
}
