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
    for (const it of this.items) {
      const p = this.map.project(it.anchor);
      it.el.style.transform = `translate(-50%, -50%) translate(${p.x.toFixed(1)}px, ${p.y.toFixed(1)}px)`;
    }
  }
}
