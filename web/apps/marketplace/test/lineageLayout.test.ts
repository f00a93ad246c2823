import { describe, expect, it } from "vitest";
import type { LineageGraph } from "../src/lib/types";
import { BOX, layOut, shorten } from "../src/product/lineageLayout";

function node(id: string, depth: number, title = `Product ${id}`) {
  return { id, depth, title, owner: "did:key:z6Mk", availability: "listed" as const };
}

// a diamond above the product (two parents sharing a grandparent) and one child
const graph: LineageGraph = {
  product: "p",
  nodes: [node("g", -2), node("a", -1), node("b", -1), node("p", 0), node("c", 1)],
  edges: [
    { parent: "g", child: "a" },
    { parent: "g", child: "b" },
    { parent: "a", child: "p" },
    { parent: "b", child: "p" },
    { parent: "p", child: "c" },
  ],
};

describe("the lineage drawing", () => {
  const drawing = layOut(graph);
  const at = (id: string) => {
    const placed = drawing.products.find((p) => p.node.id === id);
    if (placed === undefined) throw new Error(`${id} is not drawn`);
    return placed;
  };

  it("puts each generation to the right of the one it was derived from", () => {
    expect(at("g").x).toBeLessThan(at("a").x);
    expect(at("a").x).toBe(at("b").x);
    expect(at("a").x).toBeLessThan(at("p").x);
    expect(at("p").x).toBeLessThan(at("c").x);
  });

  it("never overlaps two boxes and keeps them inside the drawing", () => {
    for (const one of drawing.products) {
      expect(one.x).toBeGreaterThanOrEqual(0);
      expect(one.y).toBeGreaterThanOrEqual(0);
      expect(one.x + BOX.width).toBeLessThanOrEqual(drawing.width);
      expect(one.y + BOX.height).toBeLessThanOrEqual(drawing.height);
      for (const other of drawing.products) {
        if (other === one) continue;
        const apart =
          one.x + BOX.width <= other.x ||
          other.x + BOX.width <= one.x ||
          one.y + BOX.height <= other.y ||
          other.y + BOX.height <= one.y;
        expect(apart).toBe(true);
      }
    }
  });

  it("draws one line per edge, from the parent's side to the child's", () => {
    expect(drawing.lines).toHaveLength(5);
    const line = drawing.lines.find((l) => l.parent === "p" && l.child === "c");
    const numbers = (line?.path.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
    expect(numbers[0]).toBeGreaterThanOrEqual(at("p").x + BOX.width - 1);
    expect(numbers.at(-2)).toBeLessThanOrEqual(at("c").x + 1);
  });

  it("marks the product of the page and leaves out edges to unknown products", () => {
    expect(drawing.products.filter((p) => p.focus).map((p) => p.node.id)).toEqual(["p"]);
    const dangling = layOut({ ...graph, edges: [...graph.edges, { parent: "x", child: "p" }] });
    expect(dangling.lines).toHaveLength(5);
  });

  it("shortens long titles to fit the box", () => {
    expect(shorten("Heart rate of 40 runners over a marathon season")).toBe(
      "Heart rate of 40 runner…",
    );
    expect(shorten("Short")).toBe("Short");
  });
});
