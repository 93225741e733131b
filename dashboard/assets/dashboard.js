/* saeg dashboard. Reads the JSON embedded in #saeg-data (docs/dashboard.md) and draws the page.
 * Every string that comes from the data reaches the page through textContent or an attribute
 * value: never parsed as HTML. Charts are inline SVG built with createElementNS. */
(function () {
  'use strict';

  var D = JSON.parse(document.getElementById('saeg-data').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var GENES_SHOWN = 25;
  var CELLS_SHOWN = 15;

  /* ---------- DOM helpers ---------- */

  /* el('td', {class: 'num'}, 'text', node, [more]) - strings become text nodes */
  function el(tag, props) {
    var n = document.createElement(tag);
    setProps(n, props);
    for (var i = 2; i < arguments.length; i++) add(n, arguments[i]);
    return n;
  }
  function sv(tag, attrs) {
    var n = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) n.setAttribute(k, String(attrs[k]));
    for (var i = 2; i < arguments.length; i++) add(n, arguments[i]);
    return n;
  }
  function setProps(n, props) {
    if (!props) return;
    for (var k in props) {
      var v = props[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else if (k === 'style') n.setAttribute('style', v);
      else if (k === 'onclick') n.addEventListener('click', v);
      else n.setAttribute(k, String(v));
    }
  }
  function add(n, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(n, x); }); return; }
    n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  function $(id) { return document.getElementById(id); }
  function note(text) { return el('p', {class: 'note'}, text); }
  function panel(title, hint) {
    var p = el('div', {class: 'panel'}, el('h3', null, title, hint ? el('span', {class: 'hint'}, hint) : null));
    for (var i = 2; i < arguments.length; i++) add(p, arguments[i]);
    return p;
  }
  function card(label, value, sub, title) {
    return el('div', {class: 'card', title: title},
      el('div', {class: 'label'}, label), el('div', {class: 'value'}, value), sub ? el('div', {class: 'sub'}, sub) : null);
  }
  /* A link only for http(s) URLs; anything else (javascript:, data:) stays plain text. */
  function link(url, text) {
    if (typeof url === 'string' && /^https?:\/\//i.test(url))
      return el('a', {href: url, target: '_blank', rel: 'noopener noreferrer'}, text);
    return el('span', null, text);
  }

  /* ---------- number formatting ---------- */

  function isNum(x) { return typeof x === 'number' && isFinite(x); }
  function fmt(x, digits) {
    if (!isNum(x)) return '–';
    if (x === 0) return '0';
    var a = Math.abs(x);
    if (a >= 1e6 && a < 1e9) return Number((x / 1e6).toPrecision(digits || 3)) + 'M';
    if (a >= 1e9 || a < 1e-3) return x.toExponential(Math.max(0, (digits || 3) - 1)).replace(/\.?0+e/, 'e').replace('e+', 'e');
    if (a >= 1000) return Math.round(x).toLocaleString('en-US');
    return String(Number(x.toPrecision(digits || 3)));
  }
  function fmtInt(x) { return isNum(x) ? Math.round(x).toLocaleString('en-US') : '–'; }
  function fmtPct(x) {
    if (!isNum(x)) return '–';
    if (x === 0) return '0%';
    var p = x * 100;
    if (p >= 10) return p.toFixed(1) + '%';
    if (p >= 0.1) return Number(p.toFixed(2)) + '%';
    return Number(p.toPrecision(2)) + '%';
  }
  function fmtP(p) {
    if (!isNum(p)) return '–';
    if (p === 0) return '< 1e-300';
    if (p >= 0.001) return String(Number(p.toPrecision(2)));
    return p.toExponential(1).replace('e+', 'e');
  }
  function niceStep(range, n) {
    var raw = range / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  }
  function ticks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    var s = niceStep(hi - lo, n), out = [];
    for (var t = Math.ceil(lo / s) * s; t <= hi + s * 1e-9; t += s) out.push(Math.abs(t) < s * 1e-9 ? 0 : t);
    return out;
  }

  /* ---------- data access ---------- */

  var S = D.summary || {};
  var FEATURES = D.features || [];
  var GENES = D.genes || [];
  var CELLS = D.cells;
  var NOTES = D.notes || {};
  var byId = new Map();
  FEATURES.forEach(function (f, i) { byId.set(f.id, i); });

  function geneLabel(g) { var e = GENES[g]; return e ? (e[1] || e[0]) : '?'; }
  function stripVersion(id) { return String(id).replace(/\.\d+$/, ''); }
  function rankKey() { var k = S.rank_by || 'mean'; return (S.scores || []).indexOf(k) >= 0 ? k : (S.scores || [])[0]; }
  function topGenes(f, n) {
    var g = f.genes && f.genes.g ? f.genes.g : [];
    return g.slice(0, n).map(geneLabel);
  }

  /* ---------- header ---------- */

  function header() {
    var chips = $('run-chips'), sae = D.sae || {}, md = sae.metadata || {};
    function chip(label, value) { if (value !== undefined && value !== null && value !== '') chips.appendChild(el('span', {class: 'chip'}, label ? label + ' ' : '', el('b', null, String(value)))); }
    chip('', [md.model_name, md.model_size].filter(Boolean).join(' '));
    if (md.layer !== undefined) chip('layer', md.layer); else chip('hook', md.hook_name);
    var arch = md.training_architecture || sae.architecture, k = sae.k || md.k;
    if (arch) chip('', arch + (k ? ' k=' + k : ''));
    if (sae.d_in && sae.d_sae) chip('', sae.d_in + ' → ' + fmtInt(sae.d_sae));
    chip('features', fmtInt(S.n_features));
    chip('alive', fmtInt(S.n_alive));
    if (isNum(S.n_cells)) chip('cells', fmtInt(S.n_cells));
    document.title = (D.title || 'results') + ' · SAE features';
    $('run-title').textContent = D.title || '';
  }

  /* ---------- tabs ---------- */

  var drawn = {};
  function showTab(name) {
    document.querySelectorAll('.tabs button').forEach(function (b) { b.classList.toggle('active', b.getAttribute('data-tab') === name); });
    document.querySelectorAll('.tab').forEach(function (t) { t.classList.toggle('active', t.id === 'tab-' + name); });
    if (!drawn[name]) {
      drawn[name] = true;
      if (name === 'training') drawTraining($('tab-training'));
      if (name === 'evaluation') drawEvaluation($('tab-evaluation'));
      if (name === 'validation') drawValidation($('tab-validation'));
    }
    if (name === 'features') renderList();
  }
  document.querySelectorAll('.tabs button').forEach(function (b) {
    b.addEventListener('click', function () {
      var name = b.getAttribute('data-tab');
      showTab(name);
      setHash(name === 'features' ? (current >= 0 ? 'feature=' + FEATURES[current].id : '') : name);
    });
  });

  /* ---------- search ---------- */

  var index = null; /* built on first search: gene -> features */
  function buildIndex() {
    var sym = new Map(), ens = new Map(), hits = new Array(GENES.length);
    GENES.forEach(function (e, i) {
      var s = (e[1] || '').toLowerCase(), x = stripVersion(e[0] || '').toLowerCase();
      if (s) { if (!sym.has(s)) sym.set(s, []); sym.get(s).push(i); }
      if (x) { if (!ens.has(x)) ens.set(x, []); ens.get(x).push(i); }
    });
    FEATURES.forEach(function (f, fi) {
      var g = f.genes && f.genes.g ? f.genes.g : [];
      for (var r = 0; r < g.length; r++) { (hits[g[r]] || (hits[g[r]] = [])).push(fi, r); }
    });
    index = {sym: sym, ens: ens, hits: hits, keys: Array.from(sym.keys()), ekeys: Array.from(ens.keys())};
  }
  function genesFor(term) {
    var t = term.toLowerCase(), out = [];
    var exact = (index.sym.get(t) || []).concat(index.ens.get(stripVersion(t)) || []);
    if (exact.length) return exact;
    if (t.length < 2) return out;
    index.keys.forEach(function (k) { if (k.lastIndexOf(t, 0) === 0) out = out.concat(index.sym.get(k)); });
    index.ekeys.forEach(function (k) { if (k.lastIndexOf(t, 0) === 0) out = out.concat(index.ens.get(k)); });
    return out.slice(0, 500);
  }
  /* Returns {list: [feature index...], badge: Map(feature index -> text), sortByRank} */
  function search(q) {
    var terms = q.split(/[\s,;]+/).filter(Boolean);
    if (!terms.length) return null;
    if (!index) buildIndex();
    var result = null, badge = new Map(), rank = new Map();
    terms.forEach(function (term) {
      var found = new Map(); /* feature index -> [rank, gene] */
      var m = /^(?:#|f|feature)?\s*(\d+)$/i.exec(term);
      if (m && byId.has(Number(m[1]))) found.set(byId.get(Number(m[1])), [-1, -1]);
      genesFor(term).forEach(function (g) {
        var h = index.hits[g] || [];
        for (var i = 0; i < h.length; i += 2) {
          var prev = found.get(h[i]);
          if (!prev || prev[1] < 0 || h[i + 1] < prev[0]) found.set(h[i], [h[i + 1], g]); /* best rank */
        }
      });
      if (result === null) result = found;
      else result.forEach(function (v, k) { if (!found.has(k)) result.delete(k); });
      found.forEach(function (v, k) {
        if (v[1] >= 0 && result.has(k)) {
          var s = geneLabel(v[1]) + ' #' + (v[0] + 1);
          badge.set(k, badge.has(k) ? badge.get(k) + ' · ' + s : s);
          rank.set(k, (rank.get(k) || 0) + v[0]);
        }
      });
    });
    var list = Array.from(result.keys());
    list.sort(function (a, b) { return (rank.has(a) ? rank.get(a) : -1) - (rank.has(b) ? rank.get(b) : -1) || a - b; });
    return {list: list, badge: badge};
  }

  /* ---------- feature list (virtualised: only visible rows exist) ---------- */

  var ROW_H = 58;
  var view = [], badges = new Map(), current = -1;
  var listEl = $('list'), spacer = $('list-spacer'), searchEl = $('search'), sortEl = $('sort');

  function sortedAll() {
    var idx = FEATURES.map(function (_, i) { return i; }), k = sortEl.value;
    if (k === 'max') idx.sort(function (a, b) { return (FEATURES[b].max || 0) - (FEATURES[a].max || 0) || a - b; });
    else if (k === 'id') idx.sort(function (a, b) { return FEATURES[a].id - FEATURES[b].id; });
    return idx; /* 'freq': the file order is by frequency */
  }
  function applySearch() {
    var q = searchEl.value.trim(), r = q ? search(q) : null;
    view = r ? r.list : sortedAll();
    badges = r ? r.badge : new Map();
    var shown = FEATURES.length === S.n_features ? 'all ' + fmtInt(S.n_features) + ' features'
      : fmtInt(FEATURES.length) + ' of ' + fmtInt(S.n_features) + ' features';
    $('list-count').textContent = q ? fmtInt(view.length) + (view.length === 1 ? ' match' : ' matches') : shown;
    $('list-count').title = q ? 'among ' + shown : 'the most frequently active features; saeg dashboard --top-n-features N|all';
    spacer.style.height = (view.length * ROW_H) + 'px';
    listEl.scrollTop = 0;
    renderList();
    if (q && view.length && view.indexOf(current) < 0) select(view[0], false);
  }
  var maxFreq = FEATURES.reduce(function (m, f) { return Math.max(m, f.f || 0); }, 0) || 1;
  function row(fi, i) {
    var f = FEATURES[fi], genes = topGenes(f, 8);
    var r = el('div', {class: 'row' + (fi === current ? ' selected' : ''), role: 'option', 'data-id': f.id, style: 'top:' + (i * ROW_H) + 'px'},
      el('div', {class: 'row-top'}, el('span', {class: 'fid'}, '#' + f.id),
        badges.has(fi) ? el('span', {class: 'badge', title: badges.get(fi)}, badges.get(fi)) : null,
        el('span', {class: 'freq', title: 'firing frequency'}, fmtPct(f.f))),
      el('div', {class: 'row-genes' + (genes.length ? '' : ' empty')}, genes.length ? genes.join(' · ') : (f.f > 0 ? 'no genes recorded' : 'dead feature')),
      el('div', {class: 'freqbar', style: 'width:' + Math.max(1, Math.sqrt((f.f || 0) / maxFreq) * 120) + 'px'}));
    r.addEventListener('click', function () { select(fi, true); });
    return r;
  }
  function renderList() {
    var top = listEl.scrollTop, h = listEl.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW_H) - 5), last = Math.min(view.length, Math.ceil((top + h) / ROW_H) + 5);
    Array.from(listEl.querySelectorAll('.row, .list-empty')).forEach(function (n) { listEl.removeChild(n); });
    if (!view.length) { listEl.appendChild(el('div', {class: 'list-empty'}, 'No shown feature has this gene or id among its top genes.' + (S.top_n !== 'all' ? ' Only the ' + fmtInt(FEATURES.length) + ' most frequent features are in this page (saeg dashboard --top-n-features all).' : ''))); return; }
    var frag = document.createDocumentFragment();
    for (var i = first; i < last; i++) frag.appendChild(row(view[i], i));
    listEl.appendChild(frag);
  }
  var pending = false;
  listEl.addEventListener('scroll', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; renderList(); });
  });
  window.addEventListener('resize', function () { renderList(); });
  var searchTimer = 0;
  searchEl.addEventListener('input', function () { clearTimeout(searchTimer); searchTimer = setTimeout(applySearch, 120); });
  searchEl.addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { clearTimeout(searchTimer); applySearch(); if (view.length) select(view[0], true); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); move(1); }
  });
  listEl.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowDown') { e.preventDefault(); move(1); }
    if (e.key === 'ArrowUp') { e.preventDefault(); move(-1); }
  });
  sortEl.addEventListener('change', applySearch);
  function move(d) {
    if (!view.length) return;
    var i = view.indexOf(current) + d;
    i = Math.max(0, Math.min(view.length - 1, i));
    select(view[i], true);
    var y = i * ROW_H;
    if (y < listEl.scrollTop) listEl.scrollTop = y;
    else if (y + ROW_H > listEl.scrollTop + listEl.clientHeight) listEl.scrollTop = y + ROW_H - listEl.clientHeight;
  }
  function searchFor(text) {
    searchEl.value = text;
    showTab('features');
    applySearch();
  }

  /* ---------- feature detail (drawn when selected) ---------- */

  function select(fi, updateHash) {
    current = fi;
    renderList();
    var d = $('detail');
    clear(d);
    d.scrollTop = 0;
    drawFeature(d, FEATURES[fi], fi);
    if (updateHash) setHash('feature=' + FEATURES[fi].id);
  }

  function drawFeature(root, f, fi) {
    var rank = fi + 1, g = topGenes(f, 6);
    root.appendChild(el('div', {class: 'detail-head'}, el('h2', null, 'Feature ' + f.id),
      el('span', {class: 'detail-sub'}, 'rank ' + fmtInt(rank) + ' of ' + fmtInt(S.n_features) + ' by activation frequency')));
    root.appendChild(el('p', {class: 'gist'}, g.length ? ['Top genes: ', el('strong', null, g.join(', ')), topCellType(f)] : (f.f > 0 ? 'This feature fires, but no genes were recorded for it.' : 'This feature never fired on the data (a dead latent).')));
    var c = f.cells, nc = S.n_cells;
    var cards = el('div', {class: 'cards'},
      card('Firing frequency', fmtPct(f.f), isNum(f.na) ? fmtInt(f.na) + ' of ' + fmtInt(S.n_tokens) + ' tokens' : 'of gene tokens', 'fraction of gene tokens on which the feature is active (> 0)'),
      card('Active cells', c && isNum(c.nac) ? fmtInt(c.nac) : (isNum(f.cf) && isNum(nc) ? fmtInt(f.cf * nc) : '–'),
        isNum(f.cf) ? fmtPct(f.cf) + ' of ' + fmtInt(nc) + ' cells' : null, 'cells with at least one active gene token'),
      card('Mean activation', fmt(f.mean), 'when it fires'),
      card('Max activation', fmt(f.max), 'over all tokens'),
      c && c.cls ? card('CLS token', fmtPct(c.cls[0]), 'of cells · mean ' + fmt(c.cls[1]) + ' · max ' + fmt(c.cls[2]), 'the feature on the cell (CLS) token, reported apart from gene tokens') : null);
    root.appendChild(cards);
    var grid = el('div', {class: 'grid2'});
    root.appendChild(grid);
    chartPanel(grid, 'Activation histogram', 'non-zero activations', function (w) {
      return f.he ? histogram(f.he, f.hc, 'activation', 'tokens', {width: w}) : note('No histogram for this feature' + (f.f > 0 ? '.' : ' (it never fires).'));
    });
    grid.appendChild(panel('Cell-type enrichment', CELLS && CELLS.type_key ? 'by ' + CELLS.type_key : null, enrichment(f)));
    root.appendChild(panel('Top genes', scoreHint(), geneTable(f)));
    root.appendChild(panel('Top cells', 'by cell activation: max over the cell’s gene tokens', cellTable(f)));
    if (D.validation) root.appendChild(panel('Validation', 'best terms per source (saeg validate)', featureValidation(f)));
    flushCharts();
  }
  function topCellType(f) {
    var e = f.cells && f.cells.e;
    if (!e || !e.length || !(e[0][5] < 0.05) || !(e[0][3] > 1)) return null;
    return ['; enriched in ', el('strong', null, CELLS.types[e[0][0]][0]), ' cells (' + fmt(e[0][3], 2) + '×)'];
  }
  function scoreHint() {
    var k = rankKey();
    return k ? 'ranked by ' + k + ' of activation × expression' : null;
  }

  function geneTable(f) {
    var G = f.genes;
    if (!G || !G.g || !G.g.length) return note(f.f > 0 ? 'No genes recorded for this feature.' : 'Dead feature: no genes.');
    var scores = (S.scores || []).filter(function (k) { return G[k]; }), key = rankKey();
    var main = G[key] || [], top = Math.max.apply(null, main.filter(isNum).concat([0])) || 1;
    var tbody = el('tbody');
    var head = el('tr', null, el('th', {class: 'num'}, '#'), el('th', null, 'Gene'), el('th', null, 'Ensembl ID'),
      key ? el('th', null, key) : null,
      scores.filter(function (k) { return k !== key; }).map(function (k) { return el('th', {class: 'num'}, k); }),
      G.n ? el('th', {class: 'num', title: 'cells where the gene is expressed and the feature fires on it'}, 'cells') : null);
    function addRows(from, to) {
      for (var i = from; i < to; i++) {
        var gi = G.g[i], e = GENES[gi] || ['', ''], v = main[i];
        tbody.appendChild(el('tr', null,
          el('td', {class: 'rank'}, String(i + 1)),
          el('td', null, el('button', {type: 'button', class: 'gene-link', title: 'features with this gene', onclick: (function (t) { return function () { searchFor(t); }; })(e[1] || stripVersion(e[0]))}, e[1] || e[0])),
          el('td', {class: 'mono muted'}, e[0]),
          key ? el('td', null, el('div', {class: 'scorebar'}, el('span', {style: 'width:' + (isNum(v) ? Math.max(0, v / top * 100) : 0) + '%'}), el('em', null, fmt(v)))) : null,
          scores.filter(function (k) { return k !== key; }).map(function (k) { return el('td', {class: 'num'}, fmt(G[k][i])); }),
          G.n ? el('td', {class: 'num'}, fmtInt(G.n[i])) : null));
      }
    }
    var n = G.g.length, shown = Math.min(n, GENES_SHOWN);
    addRows(0, shown);
    var wrap = el('div', {class: 'table-wrap gene-table'}, el('table', null, el('thead', null, head), tbody));
    if (n > shown) {
      var more = el('button', {type: 'button', class: 'more'}, 'Show all ' + fmtInt(n) + ' genes');
      more.addEventListener('click', function () { addRows(shown, n); more.remove(); });
      wrap.appendChild(more);
    }
    return wrap;
  }

  function cellTable(f) {
    if (!CELLS) return note(NOTES.cells || 'No cell information.');
    var c = f.cells;
    if (!c || !c.c || !c.c.length) return note(f.f > 0 ? 'No top cells recorded for this feature.' : 'Dead feature: no active cells.');
    var keys = CELLS.obs_keys || [], top = Math.max.apply(null, c.ca.filter(isNum).concat([0])) || 1;
    var hasCls = c.cc && c.cc.some(isNum);
    var tbody = el('tbody');
    function addRows(from, to) {
      for (var i = from; i < to; i++) {
        var ci = c.c[i], info = CELLS.info[ci] || ['', []], v = c.ca[i];
        tbody.appendChild(el('tr', null,
          el('td', {class: 'rank'}, String(i + 1)),
          el('td', {class: 'wrap mono'}, info[0] || 'row ' + CELLS.rows[ci]),
          el('td', null, el('div', {class: 'scorebar'}, el('span', {style: 'width:' + (isNum(v) ? Math.max(0, v / top * 100) : 0) + '%'}), el('em', null, fmt(v)))),
          hasCls ? el('td', {class: 'num'}, fmt(c.cc[i])) : null,
          keys.map(function (_, k) { return el('td', {class: 'wrap'}, info[1][k] === undefined ? '' : info[1][k]); })));
      }
    }
    var n = c.c.length, shown = Math.min(n, CELLS_SHOWN);
    addRows(0, shown);
    var head = el('tr', null, el('th', {class: 'num'}, '#'), el('th', null, 'Cell'), el('th', null, 'activation'),
      hasCls ? el('th', {class: 'num', title: 'activation on the cell (CLS) token'}, 'CLS') : null,
      keys.map(function (k) { return el('th', null, k); }));
    var wrap = el('div', {class: 'table-wrap cell-table'}, el('table', null, el('thead', null, head), tbody));
    if (n > shown) {
      var more = el('button', {type: 'button', class: 'more'}, 'Show all ' + fmtInt(n) + ' cells');
      more.addEventListener('click', function () { addRows(shown, n); more.remove(); });
      wrap.appendChild(more);
    }
    return wrap;
  }

  function enrichment(f) {
    if (!CELLS) return note(NOTES.cells || 'No cell information.');
    if (!CELLS.type_key) return note(NOTES.enrichment || 'The data set has no cell-type column.');
    var e = f.cells && f.cells.e;
    if (!e || !e.length) return note(f.f > 0 ? 'No enrichment rows for this feature.' : 'Dead feature: no active cells to test.');
    var rows = e.slice(0, 12), maxFold = Math.max.apply(null, rows.map(function (r) { return isNum(r[3]) ? r[3] : 0; }).concat([1]));
    var box = el('div', {class: 'enr'});
    rows.forEach(function (r) {
      var sig = r[5] < 0.05 && r[3] > 1, name = CELLS.types[r[0]] ? CELLS.types[r[0]][0] : '?';
      box.appendChild(el('span', {class: 'type', title: name}, name));
      box.appendChild(el('div', {class: 'track', title: r[1] + ' of ' + r[2] + ' cells of this type are active'},
        el('div', {class: 'fill' + (sig ? ' sig' : ''), style: 'width:' + (isNum(r[3]) ? r[3] / maxFold * 100 : 0) + '%'}),
        el('div', {class: 'one', style: 'left:' + (1 / maxFold * 100) + '%'})));
      box.appendChild(el('span', {class: 'stat'}, fmt(r[3], 2) + '× · ' + fmtInt(r[1]) + '/' + fmtInt(r[2]) + ' · q ' + fmtP(r[5])));
    });
    var out = [box, el('div', {class: 'legend'},
      el('span', null, el('i', {style: 'background:var(--accent)'}), 'q < 0.05 (Fisher, BH)'),
      el('span', null, el('i', {style: 'background:#cbd5e1'}), 'not significant'),
      el('span', null, el('i', {style: 'background:#64748b;width:2px'}), 'fold 1 (no enrichment)'))];
    if (e.length > rows.length) out.push(el('div', {class: 'reason'}, (e.length - rows.length) + ' more types with larger p-values'));
    return out;
  }

  function featureValidation(f) {
    var V = D.validation, sources = V.with_features || [], v = f.v || {}, out = [];
    var titles = {};
    ((V.summary && V.summary.sources) || []).forEach(function (r) { titles[r.source] = r.title || r.source; });
    sources.forEach(function (s) {
      var x = v[s];
      var block = el('div', {class: 'source-block'}, el('h4', null, titles[s] || s,
        x && x.ns > 0 ? el('span', {class: 'pill sig'}, x.ns + ' significant') : null));
      if (!x) block.appendChild(el('div', {class: 'reason'}, 'not in this source’s results'));
      else if (!x.t) block.appendChild(el('div', {class: 'reason'}, 'not tested: too few of the feature’s genes are annotated by this source'));
      else if (x.ppi) {
        var p = x.ppi;
        block.appendChild(el('div', null, fmtInt(p[1]) + ' interactions among ' + fmtInt(p[0]) + ' proteins (' + fmt(p[2]) + ' expected), p ' + fmtP(p[3]) + ', q ' + fmtP(p[4]) + ' ',
          p[5] ? el('span', {class: 'pill sig'}, 'significant') : null));
      } else if (!x.terms || !x.terms.length) block.appendChild(el('div', {class: 'reason'}, 'no term passed the reporting threshold'));
      else {
        var tb = el('tbody');
        x.terms.forEach(function (t) {
          tb.appendChild(el('tr', null,
            el('td', {class: 'wrap'}, link(t[2], t[1] || t[0]), el('span', {class: 'overlap'}, (t[9] || []).join(', '))),
            el('td', {class: 'mono muted'}, t[0]),
            el('td', {class: 'num'}, fmtInt(t[3]) + '/' + fmtInt(t[4])),
            el('td', {class: 'num'}, fmt(t[8], 2) + '×'),
            el('td', {class: 'num'}, fmtP(t[7]))));
        });
        block.appendChild(el('div', {class: 'table-wrap'}, el('table', {class: 'terms'},
          el('thead', null, el('tr', null, el('th', null, 'Term'), el('th', null, 'ID'), el('th', {class: 'num', title: 'feature genes in the term / term size'}, 'k/K'), el('th', {class: 'num'}, 'fold'), el('th', {class: 'num'}, 'q'))), tb)));
      }
      out.push(block);
    });
    if (!sources.length) out.push(note('No source produced per-feature results.'));
    return out;
  }

  /* ---------- charts ---------- */

  /* Appends a panel whose chart is drawn by flushCharts(), once the section's layout is complete,
   * at the panel's width so that text keeps its size. */
  var pendingCharts = [];
  function chartPanel(parent, title, hint, draw) {
    var p = panel(title, hint);
    parent.appendChild(p);
    pendingCharts.push(function () { add(p, draw(Math.max(300, p.clientWidth - 34))); });
    return p;
  }
  function flushCharts() {
    var q = pendingCharts;
    pendingCharts = [];
    q.forEach(function (draw) { draw(); });
  }

  function histogram(edges, counts, xlabel, ylabel, opts) {
    opts = opts || {};
    var W = opts.width || 520, H = Math.round(Math.min(240, Math.max(170, W * 0.38))), L = 58, R = 12, T = 10, B = 34;
    var lo = edges[0], hi = edges[edges.length - 1], ymax = Math.max.apply(null, counts.concat([1]));
    var x = function (v) { return L + (hi > lo ? (v - lo) / (hi - lo) : 0) * (W - L - R); };
    var y = function (v) { return T + (1 - v / ymax) * (H - T - B); };
    var s = sv('svg', {class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': (opts.title || 'histogram')});
    ticks(0, ymax, 4).forEach(function (t) {
      s.appendChild(sv('line', {class: 'grid', x1: L, x2: W - R, y1: y(t), y2: y(t)}));
      s.appendChild(sv('text', {x: L - 6, y: y(t) + 4, 'text-anchor': 'end'}, fmt(t)));
    });
    for (var i = 0; i < counts.length; i++) {
      var x0 = x(edges[i]), x1 = x(edges[i + 1]), h = Math.max(0, y(0) - y(counts[i]));
      var shade = 0.35 + 0.65 * (i + 1) / counts.length; /* darker at higher activation */
      s.appendChild(sv('rect', {class: 'bar', x: x0 + 0.5, y: y(counts[i]), width: Math.max(0.5, x1 - x0 - 1), height: h, 'fill-opacity': opts.flat ? 0.85 : shade},
        sv('title', null, (opts.binLabel ? opts.binLabel(edges[i], edges[i + 1]) : fmt(edges[i]) + ' – ' + fmt(edges[i + 1])) + ': ' + fmtInt(counts[i]) + ' ' + ylabel)));
    }
    s.appendChild(sv('line', {class: 'axis', x1: L, x2: W - R, y1: y(0), y2: y(0)}));
    ticks(lo, hi, 6).forEach(function (t) {
      if (t < lo - 1e-12 || t > hi + 1e-12) return;
      s.appendChild(sv('line', {class: 'axis', x1: x(t), x2: x(t), y1: y(0), y2: y(0) + 4}));
      s.appendChild(sv('text', {x: x(t), y: y(0) + 16, 'text-anchor': 'middle'}, opts.tick ? opts.tick(t) : fmt(t)));
    });
    s.appendChild(sv('text', {x: (L + W - R) / 2, y: H - 2, 'text-anchor': 'middle'}, xlabel));
    s.appendChild(sv('text', {x: 10, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 10 ' + (T + H - B) / 2 + ')'}, ylabel));
    return s;
  }

  /* Decades within [lo, hi] (log10 units), with 2 and 5 in between when there are few. */
  function logTicks(lo, hi) {
    var out = [], e;
    for (e = Math.ceil(lo); e <= Math.floor(hi); e++) out.push(Math.pow(10, e));
    if (out.length < 3) {
      out = [];
      for (e = Math.floor(lo); e <= Math.ceil(hi); e++) [1, 2, 5].forEach(function (m) {
        var v = m * Math.pow(10, e), l = Math.log10(v);
        if (l >= lo && l <= hi) out.push(v);
      });
    }
    return out;
  }

  var PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4b5563'];
  /* Line chart of several series over steps; hover shows the values at the nearest step. */
  function lineChart(steps, series, opts) {
    opts = opts || {};
    var W = opts.width || 560, H = Math.round(Math.min(260, Math.max(180, W * 0.45))), L = 60, R = 14, T = 12, B = 30;
    var ys = [];
    series.forEach(function (sr) { sr.v.forEach(function (v) { if (isNum(v) && (!opts.log || v > 0)) ys.push(opts.log ? Math.log10(v) : v); }); });
    if (!ys.length) return note('No values.');
    var ylo = Math.min.apply(null, ys), yhi = Math.max.apply(null, ys);
    if (!opts.log && ylo > 0 && ylo < (yhi - ylo) * 0.6) ylo = 0;
    if (yhi === ylo) { yhi += Math.abs(yhi) * 0.05 || 1; ylo -= Math.abs(ylo) * 0.05 || 0; }
    var pad = (yhi - ylo) * 0.05; yhi += pad; if (ylo !== 0) ylo -= pad;
    var xlo = steps[0], xhi = steps[steps.length - 1];
    var x = function (v) { return L + (xhi > xlo ? (v - xlo) / (xhi - xlo) : 0.5) * (W - L - R); };
    var y = function (v) { return T + (1 - ((opts.log ? Math.log10(v) : v) - ylo) / (yhi - ylo)) * (H - T - B); };
    var s = sv('svg', {class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img'});
    var yt = opts.log ? logTicks(ylo, yhi) : ticks(ylo, yhi, 4);
    yt.forEach(function (t) {
      s.appendChild(sv('line', {class: 'grid', x1: L, x2: W - R, y1: y(t), y2: y(t)}));
      s.appendChild(sv('text', {x: L - 6, y: y(t) + 4, 'text-anchor': 'end'}, opts.pct ? fmtPct(t) : fmt(t)));
    });
    s.appendChild(sv('line', {class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B}));
    ticks(xlo, xhi, 5).forEach(function (t) {
      s.appendChild(sv('text', {x: x(t), y: H - B + 16, 'text-anchor': 'middle'}, fmtInt(t)));
    });
    s.appendChild(sv('text', {x: W - R, y: H - 2, 'text-anchor': 'end'}, 'step'));
    series.forEach(function (sr, k) {
      var d = '', pen = false;
      for (var i = 0; i < steps.length; i++) {
        var v = sr.v[i];
        if (!isNum(v) || (opts.log && v <= 0)) { pen = false; continue; }
        d += (pen ? 'L' : 'M') + x(steps[i]).toFixed(1) + ' ' + y(v).toFixed(1);
        pen = true;
      }
      s.appendChild(sv('path', {class: 'line', d: d, stroke: PALETTE[k % PALETTE.length]}));
    });
    var cursor = sv('line', {class: 'cursor', y1: T, y2: H - B, visibility: 'hidden'});
    s.appendChild(cursor);
    var wrap = el('div', {class: 'chart-wrap'}, s), tip = el('div', {class: 'tip'});
    wrap.appendChild(tip);
    s.addEventListener('mousemove', function (ev) {
      var box = s.getBoundingClientRect(), px = (ev.clientX - box.left) / box.width * W;
      var target = xlo + (px - L) / (W - L - R) * (xhi - xlo), lo = 0, hi = steps.length - 1;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (steps[mid] < target) lo = mid + 1; else hi = mid; }
      if (lo > 0 && Math.abs(steps[lo - 1] - target) < Math.abs(steps[lo] - target)) lo--;
      cursor.setAttribute('x1', x(steps[lo])); cursor.setAttribute('x2', x(steps[lo])); cursor.setAttribute('visibility', 'visible');
      clear(tip);
      tip.appendChild(el('div', null, 'step ' + fmtInt(steps[lo])));
      series.forEach(function (sr) { tip.appendChild(el('div', null, sr.label + ': ' + (opts.pct ? fmtPct(sr.v[lo]) : fmt(sr.v[lo], 4)))); });
      tip.style.display = 'block';
      var left = (x(steps[lo]) / W) * box.width;
      tip.style.left = (left > box.width * 0.6 ? left - tip.offsetWidth - 10 : left + 10) + 'px';
      tip.style.top = '8px';
    });
    s.addEventListener('mouseleave', function () { tip.style.display = 'none'; cursor.setAttribute('visibility', 'hidden'); });
    if (series.length > 1) {
      wrap.appendChild(el('div', {class: 'series-legend'}, series.map(function (sr, k) {
        return el('span', null, el('i', {style: 'background:' + PALETTE[k % PALETTE.length]}), sr.label);
      })));
    }
    return wrap;
  }

  /* ---------- training tab ---------- */

  var KNOWN = {
    loss: 'total loss', mse: 'MSE', aux: 'aux-k', mse_loss: 'MSE', aux_loss: 'aux-k', l1_loss: 'L1', l0_loss: 'L0 penalty', pre_act_loss: 'pre-activation',
    l0: 'L0 (active latents per token)', explained_variance: 'explained variance', dead_fraction: 'dead latents',
    lr: 'learning rate', tokens_per_s: 'throughput (tokens/s)'
  };
  function drawTraining(root) {
    root.appendChild(el('h2', {class: 'section-title'}, 'Training'));
    var T = D.training;
    if (!T) { root.appendChild(note(NOTES.training || 'No training log.')); return; }
    var steps = T.steps, ser = T.series || {}, names = Object.keys(ser);
    function last(name) { var v = ser[name] || []; for (var i = v.length - 1; i >= 0; i--) if (isNum(v[i])) return v[i]; return null; }
    root.appendChild(el('p', {class: 'section-sub'}, fmtInt(steps[steps.length - 1]) + ' steps' +
      (isNum(last('tokens')) ? ', ' + fmtInt(last('tokens')) + ' tokens' : '') +
      (isNum(last('elapsed_s')) ? ', ' + fmt(last('elapsed_s') / 60, 3) + ' min' : '') +
      ' · ' + fmtInt(T.lines) + ' log lines' + (T.every > 1 ? ', every ' + T.every + 'th shown' : '')));
    var cards = el('div', {class: 'cards'});
    [['loss', 'Final loss'], ['explained_variance', 'Explained variance'], ['l0', 'L0'], ['dead_fraction', 'Dead latents'], ['tokens_per_s', 'Tokens / s']].forEach(function (k) {
      if (ser[k[0]]) cards.appendChild(card(k[1], k[0] === 'dead_fraction' ? fmtPct(last(k[0])) : fmt(last(k[0]), 4), 'at the last step'));
    });
    root.appendChild(cards);
    var used = {step: 1, tokens: 1, elapsed_s: 1}, charts = el('div', {class: 'charts'});
    root.appendChild(charts);
    function chart(title, keys, opts) {
      keys = keys.filter(function (k) { return ser[k] && !used[k]; });
      if (!keys.length) return;
      keys.forEach(function (k) { used[k] = 1; });
      chartPanel(charts, title, null, function (w) {
        opts = opts || {};
        opts.width = w;
        return lineChart(steps, keys.map(function (k) { return {label: KNOWN[k] || k, v: ser[k]}; }), opts);
      });
    }
    var lossKeys = names.filter(function (k) { return k === 'loss' || k === 'mse' || k === 'aux' || /_loss$|^inner_mse_/.test(k); });
    chart('Loss', lossKeys, {log: lossKeys.every(function (k) { return ser[k].every(function (v) { return !isNum(v) || v > 0; }); })});
    chart('Explained variance', ['explained_variance']);
    chart('L0', ['l0']);
    chart('Dead latents', ['dead_fraction'], {pct: true});
    chart('Learning rate', ['lr']);
    chart('Throughput', ['tokens_per_s']);
    names.forEach(function (k) { chart(k, [k]); });
    flushCharts();
  }

  /* ---------- evaluation tab ---------- */

  /* [path in eval.json (alternatives after '|'), label, meaning, as a percentage] */
  var EVAL = [
    ['explained_variance', 'Explained variance', '1 − Σ(x−x̂)² / Σ(x−μ)²'],
    ['loss_recovered.score|loss_recovered', 'Loss recovered', '(L_ablated − L_sae) / (L_ablated − L_clean)'],
    ['l0', 'L0', 'active latents per token'],
    ['mse', 'MSE', 'per element'],
    ['cosine|cossim', 'Cosine similarity', 'x vs reconstruction'],
    ['l2_ratio', 'L2 ratio', '‖x̂‖ / ‖x‖'],
    ['relative_reconstruction_bias', 'Reconstruction bias', 'E‖x̂‖² / E[x·x̂]; 1 = no shrinkage'],
    ['dead_fraction', 'Dead latents', 'never fire', true],
    ['dense_fraction', 'Dense latents', 'fire on > 10% of tokens', true],
    ['loss_recovered.loss_clean|loss_clean', 'Loss (clean)', 'masked-expression loss'],
    ['loss_recovered.loss_sae|loss_sae', 'Loss (with SAE)', 'reconstruction spliced in'],
    ['loss_recovered.loss_ablation|loss_ablated', 'Loss (ablated)', 'layer zero-ablated']
  ];
  function evalValue(E, paths) {
    var found = null;
    paths.split('|').some(function (p) {
      var v = p.split('.').reduce(function (o, k) { return o && typeof o === 'object' ? o[k] : undefined; }, E);
      if (isNum(v)) { found = [p, v]; return true; }
      return false;
    });
    return found;
  }
  function drawEvaluation(root) {
    root.appendChild(el('h2', {class: 'section-title'}, 'Evaluation'));
    var E = D.eval, h = null;
    if (!E) root.appendChild(note(NOTES.eval || 'No evaluation results.'));
    else {
      var cards = el('div', {class: 'cards'}), seen = {schema: 1};
      EVAL.forEach(function (m) {
        var v = evalValue(E, m[0]);
        if (!v) return;
        seen[v[0]] = 1;
        cards.appendChild(card(m[1], m[3] ? fmtPct(v[1]) : fmt(v[1], 4), m[2]));
      });
      root.appendChild(cards);
      h = E.density_histogram || E.feature_density_histogram;
      if (h && typeof h === 'object') {
        seen.density_histogram = seen.feature_density_histogram = 1;
        var edges = h.bin_edges || h.edges;
        h = Array.isArray(edges) && Array.isArray(h.counts) && edges.length === h.counts.length + 1 && edges.every(isNum) ? {edges: edges, counts: h.counts, dead: h.dead} : null;
      }
      var rows = [];
      Object.keys(E).forEach(function (k) {
        var v = E[k];
        if (seen[k]) return;
        if (isNum(v) || typeof v === 'string') rows.push([k, v]);
        else if (v && typeof v === 'object' && !Array.isArray(v))
          Object.keys(v).forEach(function (k2) { if (!seen[k + '.' + k2] && (isNum(v[k2]) || typeof v[k2] === 'string')) rows.push([k + '.' + k2, v[k2]]); });
      });
      if (rows.length) root.appendChild(panel('Other values', 'eval.json', el('dl', {class: 'kv'}, rows.map(function (r) {
        return [el('dt', null, r[0]), el('dd', null, typeof r[1] === 'number' ? fmt(r[1], 5) : r[1])];
      }))));
    }
    var grid = el('div', {class: 'grid2'});
    root.appendChild(grid);
    if (D.density) {
      chartPanel(grid, 'Feature density', 'log10 firing frequency of the ' + fmtInt(S.n_alive) + ' alive features (feature_stats.json); ' + fmtInt(D.density.dead) + ' dead', function (w) {
        return histogram(D.density.edges, D.density.counts, 'log10 firing frequency', 'features', {flat: true, width: w, tick: function (t) { return fmt(t, 2); },
          binLabel: function (a, b) { return fmtPct(Math.pow(10, a)) + ' – ' + fmtPct(Math.pow(10, b)); }});
      });
    }
    if (h) {
      chartPanel(grid, 'Feature density (evaluation)', 'eval.json' + (isNum(h.dead) ? '; ' + fmtInt(h.dead) + ' dead' : ''), function (w) {
        return histogram(h.edges, h.counts, 'log10 firing frequency', 'features', {flat: true, width: w});
      });
    }
    flushCharts();
  }

  /* ---------- validation tab ---------- */

  function drawValidation(root) {
    root.appendChild(el('h2', {class: 'section-title'}, 'Biological validation'));
    var V = D.validation;
    if (!V) { root.appendChild(note(NOTES.validation || 'No validation results.')); return; }
    var sm = V.summary || {}, any = sm.any_source || {}, input = sm.input || {};
    root.appendChild(el('p', {class: 'section-sub'}, 'Each feature’s top ' + (input.top_n || '') + ' genes tested for over-representation (one-sided hypergeometric, Benjamini–Hochberg) against each source, next to random gene sets of the same sizes (null).'));
    var cards = el('div', {class: 'cards'});
    if (isNum(any.features_with_genes)) cards.appendChild(card('Features tested', fmtInt(any.features_with_genes), isNum(input.features) ? 'of ' + fmtInt(input.features) : null));
    if (isNum(any.fraction_enriched)) cards.appendChild(card('Enriched in any source', fmtPct(any.fraction_enriched), 'null: ' + fmtPct(any.null_fraction_enriched)));
    if (isNum(sm.sources_run)) cards.appendChild(card('Sources run', fmtInt(sm.sources_run), isNum(sm.sources_failed) && sm.sources_failed ? sm.sources_failed + ' failed' : null));
    root.appendChild(cards);
    var tb = el('tbody');
    (sm.sources || []).forEach(function (r) {
      var fe = r.fraction_enriched, nu = r.null_fraction_enriched;
      tb.appendChild(el('tr', null,
        el('td', {class: 'wrap'}, el('div', null, r.title || r.source), r.reason ? el('div', {class: 'reason'}, r.reason) : null),
        el('td', {class: 'num'}, isNum(r.tier) && r.tier > 0 ? String(r.tier) : '–'),
        el('td', null, el('span', {class: 'pill ' + (r.status === 'ok' ? 'ok' : r.status === 'failed' ? 'failed' : 'skipped')}, r.status || '?')),
        el('td', {class: 'muted wrap'}, [r.mode, typeof r.version === 'string' || isNum(r.version) ? String(r.version) : null].filter(Boolean).join(' · ')),
        el('td', {class: 'num'}, fmtInt(r.N)),
        el('td', {class: 'num'}, fmtInt(r.features_tested)),
        el('td', null, isNum(fe) ? el('div', {class: 'scorebar', title: 'null: ' + fmtPct(nu)}, el('span', {style: 'width:' + Math.min(100, fe * 100) + '%'}), el('em', null, fmtPct(fe) + (isNum(nu) ? '  (null ' + fmtPct(nu) + ')' : ''))) : '–'),
        el('td', {class: 'num'}, isNum(r.enrichment_over_null) ? fmt(r.enrichment_over_null, 3) + '×' : '–')));
    });
    root.appendChild(panel('Sources', null, el('div', {class: 'table-wrap'}, el('table', null,
      el('thead', null, el('tr', null, el('th', null, 'Source'), el('th', {class: 'num'}, 'Tier'), el('th', null, 'Status'), el('th', null, 'Version'),
        el('th', {class: 'num', title: 'genes in the universe'}, 'N'), el('th', {class: 'num'}, 'Tested'), el('th', null, 'Features enriched (q < FDR)'), el('th', {class: 'num'}, 'vs null'))), tb))));
    root.appendChild(note('Per-feature terms are on each feature’s page (Features tab), up to ' + (V.max_terms || 5) + ' per source.'));
  }

  /* ---------- hash routing: #feature=42, #training, #evaluation, #validation ---------- */

  function setHash(h) {
    var url = location.pathname + location.search + (h ? '#' + h : '');
    try { history.replaceState(null, '', url); } catch (e) { /* file:// in some browsers */ }
  }
  function route() {
    var h = decodeURIComponent(location.hash.replace(/^#/, ''));
    var m = /^feature=(\d+)$/.exec(h);
    if (m && byId.has(Number(m[1]))) { showTab('features'); select(byId.get(Number(m[1])), false); scrollToCurrent(); return true; }
    if (h === 'training' || h === 'evaluation' || h === 'validation') { showTab(h); return true; }
    return false;
  }
  function scrollToCurrent() {
    var i = view.indexOf(current);
    if (i >= 0) { listEl.scrollTop = Math.max(0, i * ROW_H - listEl.clientHeight / 3); renderList(); }
  }
  window.addEventListener('hashchange', route);

  /* ---------- start ---------- */

  header();
  applySearch();
  if (!route()) {
    if (FEATURES.length) select(0, false);
    else $('detail').appendChild(el('p', {class: 'empty-detail'}, 'No features to show.'));
  }
  document.documentElement.setAttribute('data-ready', '1');
})();
