// The grid map in SVG from the grids' GeoJSON: grids coloured by open cases, patrols, cases.
// No tile server: an equirectangular projection of the site's extent is enough at street scale.

import { t } from "./common.js";
import { caseTitle } from "./scenarios.js";

const NS = "http://www.w3.org/2000/svg";
const PATROL_STATUS = { available: "legendAvailable", busy: "legendBusy", stale: "stale",
  on_duty: "onDuty", off_duty: "offDuty" };
const STALE_S = 120;

function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export class GridMap {
  constructor(root, onSelectCase) {
    this.root = root;
    this.onSelectCase = onSelectCase;
    this.grids = new Map(); // grid id -> path
    this.patrols = new Map(); // patrol id -> circle
    this.cases = new Map(); // case id -> marker
    this.layers = {};
    for (const name of ["grids", "cameras", "cases", "patrols"]) {
      this.layers[name] = svg("g", { class: `layer-${name}` });
      root.append(this.layers[name]);
    }
  }

  setGrids(collection) {
    const rings = collection.features.flatMap((f) => polygonsOf(f.geometry)).flat();
    const points = rings.flat();
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...lons), Math.max(...lons), Math.min(...lats),
      Math.max(...lats)];
    this.k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
    this.origin = [x0, y1];
    const w = (x1 - x0) * this.k;
    const h = y1 - y0;
    this.scale = 1000 / Math.max(w, h);
    this.root.setAttribute("viewBox", `-10 -10 ${w * this.scale + 20} ${h * this.scale + 20}`);
    const byLevel = [...collection.features].sort((a, b) => depth(a) - depth(b));
    for (const feature of byLevel) {
      const d = polygonsOf(feature.geometry)
        .map((poly) => poly.map((ring) => "M" + ring.map((p) => this.xy(p[1], p[0]).join(","))
          .join("L") + "Z").join("")).join("");
      const path = svg("path", { d, class: `grid level-${feature.properties.level}` });
      path.dataset.grid = feature.id;
      const title = svg("title");
      title.textContent = `${feature.properties.name} (${feature.id})`;
      path.append(title);
      this.layers.grids.append(path);
      this.grids.set(feature.id, path);
    }
  }

  xy(lat, lon) {
    return [((lon - this.origin[0]) * this.k * this.scale).toFixed(1),
      ((this.origin[1] - lat) * this.scale).toFixed(1)];
  }

  /** Cameras as triangles (enabled or not; live health comes with the camera API). */
  setCameras(cameras) {
    this.layers.cameras.replaceChildren();
    for (const c of cameras) {
      const [x, y] = this.xy(c.lat, c.lon).map(Number);
      const mark = svg("path", { d: `M${x},${y - 24}L${x + 21},${y + 14}L${x - 21},${y + 14}Z`,
        class: `camera camera-${c.enabled ? "on" : "off"}` });
      mark.dataset.camera = c.id;
      const title = svg("title");
      title.textContent = `${c.name} (${c.id})`;
      mark.append(title);
      this.layers.cameras.append(mark);
    }
  }

  /** Colour grids by their number of open cases. */
  colourGrids(counts) {
    for (const [id, path] of this.grids) {
      const n = counts.get(id) ?? 0;
      path.dataset.open = n === 0 ? "0" : n < 3 ? "1" : n < 10 ? "2" : "3";
    }
  }

  setCase(c, open) {
    let marker = this.cases.get(c.id);
    if (!open || c.lat === null || c.lon === null || !this.scale) {
      marker?.remove();
      this.cases.delete(c.id);
      return;
    }
    if (!marker) {
      marker = svg("rect", { width: 26, height: 26, class: "case-marker" });
      marker.addEventListener("click", () => this.onSelectCase(c.id));
      marker.append(svg("title"));
      this.layers.cases.append(marker);
      this.cases.set(c.id, marker);
    }
    const [x, y] = this.xy(c.lat, c.lon);
    marker.setAttribute("x", x - 13);
    marker.setAttribute("y", y - 13);
    marker.setAttribute("class", `case-marker sev-${c.severity}`);
    marker.firstChild.textContent = `#${c.id} ${caseTitle(c)}`;
  }

  /** Patrols by status and freshness; circles are reused, so 500 patrols cost 500 updates. */
  setPatrols(patrols) {
    const seen = new Set();
    for (const p of patrols) {
      if (!p.last_fix || !this.scale) continue;
      seen.add(p.id);
      let dot = this.patrols.get(p.id);
      if (!dot) {
        dot = svg("circle", { r: 14 });
        dot.append(svg("title"));
        this.layers.patrols.append(dot);
        this.patrols.set(p.id, dot);
      }
      const [x, y] = this.xy(p.last_fix.lat, p.last_fix.lon);
      dot.setAttribute("cx", x);
      dot.setAttribute("cy", y);
      const status = p.fix_age_s > STALE_S ? "stale" : p.dispatch_id ? "busy"
        : p.available ? "available" : p.duty_status;
      dot.setAttribute("class", `patrol patrol-${status}`);
      dot.firstChild.textContent = `${p.name} (${p.id}) · ${t(PATROL_STATUS[status] ?? status)}`;
    }
    for (const [id, dot] of this.patrols) {
      if (!seen.has(id)) {
        dot.remove();
        this.patrols.delete(id);
      }
    }
  }
}

function polygonsOf(geometry) {
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  return [];
}

const LEVELS = ["street", "community", "grid", "micro_grid"];
function depth(feature) {
  const i = LEVELS.indexOf(feature.properties.level);
  return i < 0 ? LEVELS.length : i;
}
