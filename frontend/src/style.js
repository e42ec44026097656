// The map style: dark, built only from our own TileJSON sources. No
// glyphs and no sprite (the machine may be offline), so the style has no
// symbol layers; names are drawn as HTML labels (labels.js).

import { RAMP } from './scale.js';

export const SOURCES = ['districts', 'streets', 'communities', 'grids', 'parcels', 'buildings', 'objects', 'posts', 'events'];

// Layer groups the switcher turns on and off: 人 房 地 事 物, posts/units, grids.
export const GROUPS = {
  people: ['people-fill'],
  houses: ['buildings-fill', 'buildings-line'],
  land: ['parcels-fill'],
  events: ['events-cells', 'events-points', 'live-clusters', 'live-halo', 'live-points'],
  heat: ['events-heat'],
  objects: ['objects-points'],
  posts: ['posts-points'],
  grids: ['districts-choro', 'streets-choro', 'grids-fill', 'grids-line'],
};
export const DEFAULT_ON = ['houses', 'events', 'posts', 'grids'];

export const STATUS_COLOURS = {
  reported: '#ff6b5a', accepted: '#ffa94d', dispatched: '#ffd43b', on_site: '#ffd43b',
  resolved: '#69db7c', closed: '#5c7080',
};
export const KIND_COLOURS = {
  police: '#4dabf7', fire: '#ff6b6b', medical: '#63e6be', community: '#b197fc', micro_fire: '#ffa94d',
};

const match = (prop, table, fallback) => ['match', ['get', prop], ...Object.entries(table).flat(), fallback];

// buildStyle: with deferred, every layer but the district outlines starts
// hidden, so the first frame (the whole city) is not queued behind the
// denser sources; the page shows them right after (showDeferred).
// without: sources the user may not read (their layers go too: a viewer's
// role without events.read would get 403s for every events tile).
export function buildStyle(origin, { deferred = false, tileJSON = {}, without = [] } = {}) {
  const sources = {};
  for (const s of SOURCES.filter((x) => !without.includes(x))) {
    const tj = tileJSON[s];
    // inline TileJSON when the page already has it (one round trip less)
    sources[s] = tj?.tiles
      ? { type: 'vector', tiles: tj.tiles, minzoom: tj.minzoom ?? 0, maxzoom: tj.maxzoom ?? 22, ...(tj.bounds ? { bounds: tj.bounds } : {}) }
      : { type: 'vector', url: `${origin}/tiles/${s}.json` };
  }
  // live incidents cluster below z13 (no glyphs: a cluster's size tells its count)
  sources.live = { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, cluster: true, clusterMaxZoom: 12, clusterRadius: 40 };
  sources.nearest = { type: 'geojson', data: { type: 'FeatureCollection', features: [] } };
  const sel = (id, source, extra = {}) => ({
    id, type: 'line', source, 'source-layer': source, filter: ['==', ['get', 'code'], ''],
    paint: { 'line-color': '#ffe066', 'line-width': 3, ...extra },
  });
  const style = {
    version: 8,
    name: 'wangge dark',
    sources,
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#070d18' } },
      { id: 'districts-fill', type: 'fill', source: 'districts', 'source-layer': 'districts',
        paint: { 'fill-color': ['case', ['boolean', ['feature-state', 'hover'], false], '#1c2e4d', '#111c30'], 'fill-opacity': 0.95 } },
      { id: 'districts-choro', type: 'fill', source: 'districts', 'source-layer': 'districts', maxzoom: 8.5,
        paint: { 'fill-color': 'rgba(0,0,0,0)', 'fill-opacity': 0.75 } },
      { id: 'streets-choro', type: 'fill', source: 'streets', 'source-layer': 'streets', minzoom: 8.5, maxzoom: 10,
        paint: { 'fill-color': 'rgba(0,0,0,0)', 'fill-opacity': 0.75 } },
      { id: 'parcels-fill', type: 'fill', source: 'parcels', 'source-layer': 'parcels', minzoom: 14,
        paint: { 'fill-color': match('land_use', { residential: '#2b3a55', commercial: '#4a3b5c', industrial: '#4d4030',
          green: '#1f4034', public: '#2d4750', water: '#173b5c' }, '#26324a'), 'fill-opacity': 0.6, 'fill-outline-color': '#34445f' } },
      { id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', minzoom: 10,
        paint: { 'fill-color': 'rgba(0,0,0,0)', 'fill-opacity': 0.75 } },
      { id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', minzoom: 12,
        paint: { 'line-color': '#3fa7d6', 'line-opacity': 0.45, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0.4, 16, 1.2] } },
      { id: 'communities-line', type: 'line', source: 'communities', 'source-layer': 'communities', minzoom: 10,
        paint: { 'line-color': '#5f7fa8', 'line-width': 0.8, 'line-dasharray': [3, 2] } },
      { id: 'streets-line', type: 'line', source: 'streets', 'source-layer': 'streets', minzoom: 8,
        paint: { 'line-color': '#6f93c7', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.6, 14, 1.6] } },
      { id: 'districts-line', type: 'line', source: 'districts', 'source-layer': 'districts',
        paint: { 'line-color': '#8fb6ea', 'line-width': ['interpolate', ['linear'], ['zoom'], 6, 1, 14, 3] } },
      { id: 'buildings-fill', type: 'fill', source: 'buildings', 'source-layer': 'buildings', minzoom: 14,
        paint: { 'fill-color': match('use', { residential: '#7d8fb0', commercial: '#a48fc4', industrial: '#b59a70',
          public: '#7fb3c4' }, '#8895ab'), 'fill-opacity': 0.85 } },
      { id: 'buildings-line', type: 'line', source: 'buildings', 'source-layer': 'buildings', minzoom: 15,
        paint: { 'line-color': '#c9d6ea', 'line-width': 0.5, 'line-opacity': 0.6 } },
      { id: 'people-fill', type: 'fill', source: 'buildings', 'source-layer': 'buildings', minzoom: 14,
        layout: { visibility: 'none' },
        paint: { 'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'residents'], 0], 0, '#3b2a10', 50, '#c77d18', 200, '#ffd166'],
          'fill-opacity': 0.9 } },
      sel('sel-district', 'districts'), sel('sel-street', 'streets'), sel('sel-community', 'communities'),
      sel('sel-grid', 'grids'),
      { id: 'sel-building', type: 'line', source: 'buildings', 'source-layer': 'buildings', filter: ['==', ['id'], -1],
        paint: { 'line-color': '#ffe066', 'line-width': 3 } },
      { id: 'objects-points', type: 'circle', source: 'objects', 'source-layer': 'objects', minzoom: 14,
        layout: { visibility: 'none' },
        paint: { 'circle-radius': 3, 'circle-color': match('status', { normal: '#51cf66', fault: '#ffa94d', alarm: '#ff4d4f', offline: '#868e96' }, '#adb5bd'),
          'circle-stroke-color': '#070d18', 'circle-stroke-width': 0.5 } },
      { id: 'events-heat', type: 'heatmap', source: 'events', 'source-layer': 'events', maxzoom: 17,
        layout: { visibility: 'none' },
        paint: { 'heatmap-weight': ['interpolate', ['linear'], ['coalesce', ['get', 'count'], 1], 0, 0, 20, 1],
          'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 8, 0.6, 15, 2],
          'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 8, 10, 15, 24],
          'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'], 0, 'rgba(0,0,0,0)', 0.2, '#3b1f5c', 0.4, '#8c2a6b',
            0.6, '#d9485f', 0.8, '#f88f4f', 1, '#ffe29a'],
          'heatmap-opacity': 0.8 } },
      { id: 'events-cells', type: 'circle', source: 'events', 'source-layer': 'events', maxzoom: 14,
        filter: ['has', 'count'],
        paint: { 'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 3, 10, 10, 30, 16],
          'circle-color': '#ff6b5a', 'circle-opacity': 0.4, 'circle-stroke-color': '#ff8f80', 'circle-stroke-width': 0.8 } },
      { id: 'events-points', type: 'circle', source: 'events', 'source-layer': 'events', minzoom: 14,
        filter: ['!', ['has', 'count']],
        paint: { 'circle-radius': ['case', ['get', 'overdue'], 7, 5],
          'circle-color': match('status', STATUS_COLOURS, '#ff6b5a'),
          'circle-stroke-color': ['case', ['get', 'overdue'], '#ff0000', '#070d18'],
          'circle-stroke-width': ['case', ['get', 'overdue'], 2.5, 1] } },
      { id: 'posts-points', type: 'circle', source: 'posts', 'source-layer': 'posts',
        paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 2, 14, 6],
          'circle-color': match('kind', KIND_COLOURS, '#dee2e6'), 'circle-stroke-color': '#070d18', 'circle-stroke-width': 1 } },
      { id: 'live-clusters', type: 'circle', source: 'live', filter: ['has', 'point_count'],
        paint: { 'circle-radius': ['interpolate', ['linear'], ['get', 'point_count'], 2, 10, 50, 24],
          'circle-color': '#ff4d4f', 'circle-opacity': 0.55, 'circle-stroke-color': '#ffd0d0', 'circle-stroke-width': 1.5 } },
      { id: 'live-halo', type: 'circle', source: 'live', filter: ['!', ['has', 'point_count']],
        paint: { 'circle-radius': ['case', ['get', 'fresh'], 22, 9], 'circle-color': '#ff4d4f',
          'circle-opacity': ['case', ['get', 'fresh'], 0.35, 0.12], 'circle-blur': 0.4 } },
      { id: 'live-points', type: 'circle', source: 'live', filter: ['!', ['has', 'point_count']],
        paint: { 'circle-radius': 5, 'circle-color': match('status', STATUS_COLOURS, '#ff6b5a'),
          'circle-stroke-color': ['case', ['get', 'overdue'], '#ff0000', ['match', ['get', 'tier'], 'district', '#ffffff', 'street', '#ffd43b', '#070d18']],
          'circle-stroke-width': ['case', ['get', 'overdue'], 3, 1.5] } },
      { id: 'nearest-lines', type: 'line', source: 'nearest', filter: ['==', ['geometry-type'], 'LineString'],
        paint: { 'line-color': ['coalesce', ['get', 'colour'], '#35c2ff'], 'line-width': 2, 'line-dasharray': [2, 1] } },
      { id: 'nearest-points', type: 'circle', source: 'nearest', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': ['case', ['get', 'origin'], 8, 6], 'circle-color': ['coalesce', ['get', 'colour'], '#ffffff'],
          'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } },
    ],
  };
  if (deferred) {
    for (const l of style.layers) {
      if (FIRST_PAINT.includes(l.id)) continue;
      l.metadata = { 'wangge:deferred': (l.layout?.visibility ?? 'visible') };
      l.layout = { ...l.layout, visibility: 'none' };
    }
  }
  for (const x of without) delete style.sources[x];
  if (without.length) style.layers = style.layers.filter((l) => !without.includes(l.source));
  return style;
}

export const FIRST_PAINT = ['background', 'districts-fill', 'districts-line'];

// showDeferred restores what buildStyle(…, {deferred}) hid.
export function showDeferred(map) {
  for (const l of map.getStyle().layers) {
    const v = l.metadata?.['wangge:deferred'];
    if (v) map.setLayoutProperty(l.id, 'visibility', v);
  }
}

export const CHOROPLETH_RAMP = RAMP;
