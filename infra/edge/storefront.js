import cf from 'cloudfront';

// CloudFront Function (cloudfront-js-2.0) on the shop's viewer requests and viewer responses.
//
// Request: the viewer's address goes in a header the client cannot set (WAF's rate rules key on it).
// The visitor's signed segment cookie (dfs) is verified with a key from the KeyValueStore; a visitor
// without one gets an id here (derived from the request id, so the response event sets the same
// cookie), handed to the origin sealed in x-dropfront-minted. On a drop's landing page the
// verified segment key, or none, goes in x-dropfront-segment: the cache key holds it, so visitors of
// one segment share a page for a second and nobody gets another segment's prices. The key's
// experiment cells and nearest pop-up come from the drop's document in the store (written by the app
// when its policy or pop-ups change), and of the rest only what the policy prices by; without a
// document the page is not cached. Accept-Language is cut down
// to the shop's UI locales so that it keys a handful of pages, not every browser's variant.
// chalicelib/edge/segment.py is the Python twin of these rules; tests run both on the same inputs.
//
// A campaign link's grant (?c=, signed by the app with an edge key) is verified here too: its tier or
// cohort joins the visitor's key at once and their cookie on the way out, so the link's page is kept
// for its segment like any other.
//
// Response: a visitor who arrived without a valid cookie gets the one minted for this request, and a
// visitor who followed a campaign link the cookie that says so.

var crypto = require('crypto');
var kvs = cf.kvs();

var VIEWER_IP = 'x-dropfront-viewer-ip';
var SEGMENT = 'x-dropfront-segment';
var MINTED = 'x-dropfront-minted';
var COOKIE = 'dfs';
var APP_COOKIE = 'dfv';
var COOKIE_ATTRIBUTES = 'Max-Age=34560000; Path=/; Secure; HttpOnly; SameSite=Lax';
var UI_LOCALES = ['en', 'fr', 'de', 'es', 'ja', 'ar'];
var LANDING = /^\/drops\/([a-z0-9][a-z0-9-]{0,62})$/;
var LANDING_QUERY = ['lang', 'm', 'c', 'hold'];
var ID = /^[A-Za-z0-9_-]{8,64}$/;
var LABEL = /^[a-z0-9-]{1,40}$/;
var KID = /^[0-9a-f]{8}$/;
var LANG = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}$/;
var MAX_LANGUAGE_HEADER = 512;
var MAX_LANGUAGE_ENTRIES = 12;
var BUCKETS = 10000;
var NEAR_KM = 5;
var EARTH_KM = 6371;

async function handler(event) {
  if (event.context.eventType === 'viewer-response') {
    return respond(event);
  }
  var request = event.request;
  request.headers[VIEWER_IP] = { value: event.viewer.ip };
  delete request.headers[SEGMENT];
  delete request.headers[MINTED];
  normaliseLanguages(request.headers);
  var cookie = request.cookies[COOKIE];
  var profile = await verified(cookie);
  if (profile === null && (request.cookies[APP_COOKIE] || (await unknownKey(cookie)))) {
    // Known to the app, not yet to the edge (its cookie predates the segment cookie, or a key
    // rotation has not reached the store): the origin identifies them and sets the cookie.
    return request;
  }
  var returning = profile !== null;
  if (!returning) {
    var minted = await mint(event.context.requestId);
    if (minted === null) {
      return request; // no key in the store yet: the origin identifies the visitor itself
    }
    profile = minted.profile;
    request.headers[MINTED] = { value: minted.cookie };
  }
  var landing = LANDING.exec(request.uri);
  if (landing && (request.method === 'GET' || request.method === 'HEAD')) {
    keepOnly(request.querystring, LANDING_QUERY);
    var grant = await grantOf(request);
    if (grant === false || 'hold' in request.querystring) {
      return request; // a link signed before the edge could read it, or a hold being added to: the origin's
    }
    var key = await segmentKey(landing[1], withGrant(profile, grant), returning, request.headers);
    if (key !== null) {
      request.headers[SEGMENT] = { value: key };
    }
  }
  return request;
}

// A campaign link's grant (?c=): null without one, false if it cannot be verified here (signed
// before the edge could read grants, tampered or expired), else its tier and cohort.
async function grantOf(request) {
  var given = request.querystring.c;
  if (!given || !LANDING.test(request.uri)) {
    return null;
  }
  var parts = given.value.split('.');
  var key = parts.length === 3 && KID.test(parts[1]) ? await secret(parts[1]) : null;
  if (key === null || signature(key, parts[0], 'dfc1:') !== parts[2]) {
    return false;
  }
  var grant = fields(parts[0], 'tke');
  var now = Math.floor(Date.now() / 1000);
  if (grant === null || !/^[0-9]+$/.test(grant.e || '') || Number(grant.e) <= now || !(grant.t || grant.k)) {
    return false;
  }
  if ((grant.t && !LABEL.test(grant.t)) || (grant.k && !LABEL.test(grant.k))) {
    return false;
  }
  return { t: grant.t || null, k: grant.k || null };
}

function withGrant(profile, grant) {
  if (!grant) {
    return profile;
  }
  return { v: profile.v, t: grant.t || profile.t, k: grant.k || profile.k, p: profile.p };
}

// name:value fields joined by ~, each of names at most once; null if malformed.
function fields(payload, names) {
  var found = {};
  var parts = payload.split('~');
  for (var i = 0; i < parts.length; i++) {
    var name = parts[i].slice(0, 1);
    if (parts[i].charAt(1) !== ':' || name === '' || names.indexOf(name) < 0 || name in found) {
      return null;
    }
    found[name] = parts[i].slice(2);
  }
  return found;
}

async function respond(event) {
  var response = event.response;
  var sent = event.request.cookies;
  if (response.cookies[COOKIE] || sent[APP_COOKIE]) {
    return response; // the origin set it, or knows the visitor and will
  }
  var known = await verified(sent[COOKIE]);
  if (known === null && (await unknownKey(sent[COOKIE]))) {
    return response; // a key on its way: the origin identified them
  }
  var grant = await grantOf(event.request);
  if (known !== null && !grant) {
    return response; // a visitor we know, nothing new about them
  }
  var profile = known;
  if (profile === null) {
    var minted = await mint(event.context.requestId);
    if (minted === null) {
      return response;
    }
    profile = minted.profile;
  }
  var cookie = await sealed(withGrant(profile, grant));
  if (cookie !== null && !(sent[COOKIE] && sent[COOKIE].value === cookie)) {
    response.cookies[COOKIE] = { value: cookie, attributes: COOKIE_ATTRIBUTES };
  }
  return response;
}

async function secret(kid) {
  try {
    return await kvs.get('k.' + kid);
  } catch (missing) {
    return null;
  }
}

async function unknownKey(cookie) {
  var parts = cookie && cookie.value ? cookie.value.split('.') : [];
  return parts.length === 3 && KID.test(parts[1]) && (await secret(parts[1])) === null;
}

function signature(secretHex, payload, context) {
  var signed = (context || 'dfs1:') + payload;
  return crypto.createHmac('sha256', Buffer.from(secretHex, 'hex')).update(signed).digest('base64url');
}

async function verified(cookie) {
  var parts = cookie && cookie.value ? cookie.value.split('.') : [];
  if (parts.length !== 3 || !KID.test(parts[1])) {
    return null;
  }
  var key = await secret(parts[1]);
  if (key === null || signature(key, parts[0]) !== parts[2]) {
    return null;
  }
  var found = fields(parts[0], 'vtkp');
  if (found === null || !found.v || !ID.test(found.v)) {
    return null;
  }
  var profile = { v: found.v, t: null, k: null, p: null };
  for (var name in found) {
    if (name !== 'v') {
      if (!LABEL.test(found[name])) {
        return null;
      }
      profile[name] = found[name];
    }
  }
  return profile;
}

// The segment cookie for a profile, sealed with the newest key (null while the store has none).
async function sealed(profile) {
  var kid = await secret('current');
  var key = kid === null ? null : await secret(kid);
  if (key === null) {
    return null;
  }
  var payload = [['v', profile.v], ['t', profile.t], ['k', profile.k], ['p', profile.p]]
    .filter(function (field) { return field[1] !== null; })
    .map(function (field) { return field[0] + ':' + field[1]; })
    .join('~');
  return payload + '.' + kid + '.' + signature(key, payload);
}

async function mint(requestId) {
  var id = crypto.createHash('sha256').update('dfv-id:' + requestId).digest('base64url').slice(0, 16);
  var profile = { v: id, t: null, k: null, p: null };
  var cookie = await sealed(profile);
  return cookie === null ? null : { profile: profile, cookie: cookie };
}

async function segmentKey(slug, profile, returning, headers) {
  var drop;
  try {
    drop = await kvs.get('d.' + slug, { format: 'json' });
  } catch (missing) {
    return null;
  }
  // Only what the drop's policy prices by: a segment no rule names changes nothing on the page.
  var priced = function (label) { return drop.s.indexOf(label) >= 0; };
  var visits = priced('visit:new') || priced('visit:returning');
  var parts = [visits ? (returning ? 'r' : 'n') : 'a'];
  var near = nearest(drop.p, headers);
  [['t', 'tier:', profile.t], ['k', 'cohort:', profile.k], ['p', 'near:', profile.p], ['g', 'near:', near]].forEach(
    function (field) {
      if (field[2] !== null && priced(field[1] + field[2])) {
        parts.push(field[0] + ':' + field[2]);
      }
    }
  );
  var cells = assign(profile.v, drop.x);
  if (cells.length) {
    parts.push('x:' + cells.join('+'));
  }
  if (drop.v !== null) {
    parts.push('v:' + drop.v);
  }
  return parts.join('~');
}

function byId(a, b) {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function bucket(id, seed) {
  var digest = crypto.createHash('sha256').update(seed + '\u0000' + id).digest('hex');
  return parseInt(digest.slice(0, 8), 16) % BUCKETS;
}

function cellFor(id, experiment) {
  var cells = experiment[3];
  var total = cells.reduce(function (sum, cell) { return sum + cell[1]; }, 0);
  var point = Math.floor((bucket(id, experiment[1]) * total) / BUCKETS);
  for (var i = 0; i < cells.length; i++) {
    if (point < cells[i][1]) {
      return cells[i][0];
    }
    point -= cells[i][1];
  }
  return cells[cells.length - 1][0];
}

function assign(id, experiments) {
  var chosen = [];
  var groups = {};
  experiments.forEach(function (experiment) {
    if (experiment[2] === null) {
      chosen.push(experiment);
    } else {
      (groups[experiment[2]] = groups[experiment[2]] || []).push(experiment);
    }
  });
  Object.keys(groups).forEach(function (group) {
    var members = groups[group].slice().sort(byId);
    chosen.push(members[Math.floor((bucket(id, 'group:' + group) * members.length) / BUCKETS)]);
  });
  return chosen.sort(byId).map(function (experiment) { return experiment[0] + '.' + cellFor(id, experiment); });
}

function coordinate(headers, name, limit) {
  var header = headers[name];
  var raw = header ? header.value.trim() : '';
  var value = raw === '' || raw.length > 16 ? NaN : Number(raw);
  return isFinite(value) && value >= -limit && value <= limit ? value : null;
}

function distanceKm(lat1, lon1, lat2, lon2) {
  var p1 = (lat1 * Math.PI) / 180;
  var p2 = (lat2 * Math.PI) / 180;
  var dp = p2 - p1;
  var dl = ((lon2 - lon1) * Math.PI) / 180;
  var a = Math.pow(Math.sin(dp / 2), 2) + Math.cos(p1) * Math.cos(p2) * Math.pow(Math.sin(dl / 2), 2);
  return 2 * EARTH_KM * Math.asin(Math.sqrt(Math.min(1, a)));
}

function nearest(popups, headers) {
  var lat = coordinate(headers, 'cloudfront-viewer-latitude', 90);
  var lon = coordinate(headers, 'cloudfront-viewer-longitude', 180);
  if (lat !== null && lon !== null) {
    var close = popups
      .filter(function (p) { return p[1] !== null && p[2] !== null; })
      .map(function (p) { return [distanceKm(lat, lon, p[1], p[2]), p[0]]; })
      .filter(function (d) { return d[0] <= NEAR_KM; })
      .sort(function (a, b) { return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0); });
    if (close.length) {
      return close[0][1];
    }
  }
  var city = headers['cloudfront-viewer-city'];
  if (city && city.value && city.value.length <= 80) {
    var wanted = city.value.toLowerCase();
    var found = popups.filter(function (p) { return p[3] !== null && p[3].toLowerCase() === wanted; });
    if (found.length) {
      return found[0][0];
    }
  }
  return null;
}

function normaliseLanguages(headers) {
  var header = headers['accept-language'];
  if (!header) {
    return;
  }
  var weighted = [];
  if (header.value.length <= MAX_LANGUAGE_HEADER) {
    header.value.split(',').slice(0, MAX_LANGUAGE_ENTRIES * 2).forEach(function (part, index) {
      var pieces = part.trim().split(';');
      var tag = pieces[0].trim();
      var params = pieces.length > 1 ? pieces.slice(1).join(';').trim() : '';
      var quality = params.indexOf('q=') !== 0 ? 1 : params.length > 2 ? Number(params.slice(2)) : NaN;
      if (LANG.test(tag) && quality > 0 && quality <= 1) {
        weighted.push([-quality, index, tag.split(/[-_]/)[0].toLowerCase()]);
      }
    });
  }
  weighted.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
  var kept = [];
  weighted.slice(0, MAX_LANGUAGE_ENTRIES).forEach(function (entry) {
    if (UI_LOCALES.indexOf(entry[2]) >= 0 && kept.indexOf(entry[2]) < 0) {
      kept.push(entry[2]);
    }
  });
  if (kept.length) {
    headers['accept-language'] = { value: kept.join(',') };
  } else {
    delete headers['accept-language'];
  }
}

function keepOnly(querystring, names) {
  Object.keys(querystring).forEach(function (name) {
    if (names.indexOf(name) < 0) {
      delete querystring[name];
    }
  });
}
