// Asked for while the map bundle loads (an external file: the server's
// Content-Security-Policy allows no inline script). Who is signed in
// first: without a session no data request is made (each would be a 401)
// and the page shows its login; with one, the city's bounds follow at once.
(function () {
  var json = function (url) {
    return fetch(url, { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  };
  window.__session = json('/api/v1/session');
  var tj = function (s, perm) {
    return window.__session.then(function (me) {
      return me && (!perm || (me.permissions || []).indexOf(perm) >= 0) ? json('/tiles/' + s + '.json') : null;
    });
  };
  window.__districtsTJ = tj('districts', 'map.read');
  window.__eventsTJ = tj('events', 'events.read');
})();
