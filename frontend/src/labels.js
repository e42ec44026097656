// Region names as HTML labels over the map: the style has no glyphs (no
// font server offline), and the browser already has CJK fonts.
import { groupByCode } from './geom.js';

// Which level is labelled at a zoom.
export function labelLevel(zoom) {
  if (zoom < 10.5) return 'districts';
  if (zoom < 12.5) return 'streets';
  if (zoom < 14.5) return 'communities';
  return 'grids';
}

export class Labels {
  constructor(map, container, max = 150) {
    this.map = map;
    this.el = document.createElement('div');
    this.el.className = 'labels';
    container.appendChild(this.el);
    this.max = max;
    this.items = [];
    map.on('move', () => this.place());
    map.on('idle', () => this.refresh());
  }

  refresh() {
    const src = labelLevel(this.map.getZoom());
    let feats = [];
    try {
      feats = this.map.querySourceFeatures(src, { sourceLayer: src });
    } catch {
      feats = [];
    }
    const groups = [...groupByCode(feats).values()].sort((a, b) => b.area - a.area).slice(0, this.max);
    const key = src + groups.map((g) => g.code).join(',');
    if (key === this.key) return this.place();
    this.key = key;
    this.el.replaceChildren();
    this.items = groups.map((g) => {
      const d = document.createElement('div');
      d.className = `label label-${src}`;
      d.textContent = g.name ?? g.code;
      this.el.appendChild(d);
      return { el: d, anchor: g.anchor };
    });
    this.place();
  }

  place() {
    const pts = this.items.map((it) => {
      it.w ??= it.el.offsetWidth || it.el.textContent.length * 13;
      it.h ??= it.el.offsetHeight || 16;
      const p = this.map.project(it.anchor);
      return { x: p.x, y: p.y, w: it.w, h: it.h };
    });
    const shown = declutter(pts);
    this.items.forEach((it, i) => {
      it.el.style.visibility = shown[i] ? 'visible' : 'hidden';
      it.el.style.transform = `translate(-50%, -50%) translate(${pts[i].x.toFixed(1)}px, ${pts[i].y.toFixed(1)}px)`;
    });
  }
}

// declutter: which centred labels to show, in priority order (the
// biggest regions come first): one overlapping a label already shown is
// hidden.
export function declutter(labels, pad = 2) {
  const boxes = [];
  return labels.map(({ x, y, w, h }) => {
    const b = [x - w / 2 - pad, y - h / 2 - pad / 2, x + w / 2 + pad, y + h / 2 + pad / 2];
    if (boxes.some((o) => b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3])) return false;
    boxes.push(b);
    return true;
  });
}
