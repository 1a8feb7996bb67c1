/*! Trailmap website snippet, served by `trailmap serve` at /t.js. No dependencies.
 * Usage on a page:
 *   <script src="https://TRAILMAP_HOST/t.js"></script>
 *   <script>trailmap.init("WRITE_KEY", { host: "https://TRAILMAP_HOST" });</script>
 * init records a page view (url, path, title, referrer, UTM tags, a referral code from ?ref= or
 * ?referral=). trailmap.identify(userIdOrEmail, traits) on sign-up or checkout joins this
 * visitor's earlier anonymous visits to the customer; trailmap.track(name, props) records anything
 * else. Messages go to /v1/batch with the write key in the body, by navigator.sendBeacon (or fetch
 * with keepalive), as text/plain so the browser sends them without a CORS preflight.
 *
 * Consent mode: trailmap.init(KEY, { host, consent: 'pending' }) stores and sends nothing (no
 * cookie, no localStorage, no id) until the site's consent banner calls trailmap.consent(true);
 * what was tracked meanwhile is held in the page's memory and sent then. trailmap.consent(false)
 * drops it and removes anything stored; nothing is sent until consent(true). */
(function (window, document) {
  'use strict';
  var KEY = 'trailmap_aid';
  var REF = 'trailmap_ref';
  var state = { writeKey: null, host: '', anonymousId: null, userId: null, referral: null, queue: [], timer: null, consent: 'granted', pendingReferral: null };

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var s = '';
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s.slice(0, 8) + '-' + s.slice(8, 12) + '-4' + s.slice(13, 16) + '-' + s.slice(16, 20) + '-' + s.slice(20);
  }

  function readCookie(name) {
    var parts = ('; ' + document.cookie).split('; ' + name + '=');
    return parts.length === 2 ? decodeURIComponent(parts.pop().split(';')[0]) : null;
  }

  // The anonymous id lives in localStorage; where that is blocked (private modes, strict
  // settings), in a first-party cookie kept for a year.
  function load(name) {
    try {
      var v = window.localStorage.getItem(name);
      if (v) return v;
    } catch (e) { /* storage blocked: fall back to the cookie */ }
    return readCookie(name);
  }

  function save(name, value) {
    try {
      window.localStorage.setItem(name, value);
    } catch (e) { /* storage blocked: the cookie below keeps it */ }
    document.cookie = name + '=' + encodeURIComponent(value) + '; path=/; max-age=31536000; SameSite=Lax';
  }

  function forget(name) {
    try {
      window.localStorage.removeItem(name);
    } catch (e) { /* storage blocked: nothing was kept there */ }
    document.cookie = name + '=; path=/; max-age=0; SameSite=Lax';
  }

  // The visitor's id and referral code, read or made and kept: only once consent allows it.
  function remember() {
    state.anonymousId = load(KEY);
    if (!state.anonymousId) {
      state.anonymousId = uuid();
      save(KEY, state.anonymousId);
    }
    if (state.pendingReferral) save(REF, state.pendingReferral);
    state.referral = state.pendingReferral || load(REF);
    state.pendingReferral = null;
  }

  function params() {
    var out = {};
    var q = window.location.search.replace(/^\?/, '');
    if (!q) return out;
    q.split('&').forEach(function (pair) {
      var i = pair.indexOf('=');
      var k = i < 0 ? pair : pair.slice(0, i);
      var v = i < 0 ? '' : pair.slice(i + 1);
      try {
        out[decodeURIComponent(k.replace(/\+/g, ' '))] = decodeURIComponent(v.replace(/\+/g, ' '));
      } catch (e) { /* a malformed escape: skip the pair */ }
    });
    return out;
  }

  function campaign(p) {
    var c = {};
    var names = { utm_source: 'source', utm_medium: 'medium', utm_campaign: 'name', utm_term: 'term', utm_content: 'content' };
    for (var k in names) if (p[k]) c[names[k]] = p[k];
    return c;
  }

  function pageContext() {
    return {
      url: window.location.href,
      path: window.location.pathname,
      title: document.title,
      referrer: document.referrer,
      search: window.location.search
    };
  }

  function send() {
    state.timer = null;
    if (!state.queue.length || !state.writeKey || state.consent !== 'granted') return;
    var body = JSON.stringify({ writeKey: state.writeKey, sentAt: new Date().toISOString(), batch: state.queue.splice(0, 100) });
    var url = state.host + '/v1/batch';
    var sent = false;
    try {
      if (navigator.sendBeacon) sent = navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }));
    } catch (e) { sent = false; }
    if (!sent && window.fetch) {
      window.fetch(url, { method: 'POST', body: body, keepalive: true, headers: { 'Content-Type': 'text/plain' } }).catch(function () {});
    }
    if (state.queue.length) send();
  }

  function enqueue(type, fields) {
    var p = params();
    var message = {
      type: type,
      messageId: uuid(),
      anonymousId: state.anonymousId,
      timestamp: new Date().toISOString(),
      context: { page: pageContext(), userAgent: navigator.userAgent, campaign: campaign(p), library: { name: 'trailmap.js', version: '1' } }
    };
    if (state.userId) message.userId = state.userId;
    for (var k in fields) message[k] = fields[k];
    if (state.consent === 'denied') return null;
    state.queue.push(message);
    // Messages of the same moment go together; a page being left sends at once. Before consent
    // they wait in memory.
    if (!state.timer && state.consent === 'granted') state.timer = window.setTimeout(send, 50);
    return message.messageId;
  }

  function withReferral(props) {
    var out = {};
    for (var k in props || {}) out[k] = props[k];
    if (state.referral && !out.referral_code) out.referral_code = state.referral;
    return out;
  }

  var trailmap = {
    init: function (writeKey, options) {
      options = options || {};
      state.writeKey = writeKey;
      state.host = (options.host || '').replace(/\/$/, '');
      state.consent = options.consent === 'pending' ? 'pending' : 'granted';
      var p = params();
      state.pendingReferral = p.ref || p.referral || null;
      if (state.consent === 'granted') remember();
      else state.referral = state.pendingReferral;
      if (options.page !== false) trailmap.page();
      return trailmap;
    },
    // consent(true) from the site's consent banner: the visitor's id is made and kept, and what
    // was tracked while waiting is sent. consent(false): nothing is kept or sent.
    consent: function (granted) {
      if (granted) {
        var waiting = state.consent !== 'granted';
        state.consent = 'granted';
        if (waiting) {
          remember();
          for (var i = 0; i < state.queue.length; i++) {
            state.queue[i].anonymousId = state.anonymousId;
            var props = state.queue[i].properties;
            if (props && state.referral && !props.referral_code) props.referral_code = state.referral;
          }
        }
        send();
      } else {
        state.consent = 'denied';
        state.queue = [];
        state.anonymousId = null;
        state.referral = null;
        forget(KEY);
        forget(REF);
      }
      return trailmap;
    },
    // Messages held until consent (0 once sent or dropped).
    pending: function () {
      return state.consent === 'granted' ? 0 : state.queue.length;
    },
    page: function (name, props) {
      var page = pageContext();
      var properties = withReferral(props);
      for (var k in page) if (properties[k] === undefined) properties[k] = page[k];
      return enqueue('page', { name: name || document.title, properties: properties });
    },
    track: function (event, props) {
      return enqueue('track', { event: event, properties: withReferral(props) });
    },
    // identify("cust-42", {...}) or identify("ann@example.com", {...}): an address is sent as the
    // email trait, anything else as the user id; the anonymous id goes along, so the visitor's
    // earlier page views join the customer.
    identify: function (idOrEmail, traits) {
      var t = {};
      for (var k in traits || {}) t[k] = traits[k];
      var id = idOrEmail == null ? '' : String(idOrEmail);
      if (id.indexOf('@') > 0) {
        t.email = t.email || id;
      } else if (id) {
        state.userId = id;
      }
      if (state.referral && !t.referral_code) t.referral_code = state.referral;
      return enqueue('identify', { traits: t });
    },
    anonymousId: function () {
      return state.anonymousId;
    },
    flush: send
  };

  window.addEventListener('pagehide', send);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') send();
  });

  // Calls made before this script loaded (window.trailmap = [['init', key, opts], ...]) run now.
  var early = window.trailmap;
  window.trailmap = trailmap;
  if (early && early.length) {
    for (var i = 0; i < early.length; i++) {
      var call = early[i];
      if (call && trailmap[call[0]]) trailmap[call[0]].apply(trailmap, call.slice(1));
    }
  }
})(window, document);
