// selfup dashboard: the live page at / and the static demo report share this
// file. No libraries, no network beyond this gateway's own JSON endpoints;
// charts are SVG drawn here. Everything user-supplied goes in as text nodes.
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const POLL_MS = 4000;
  const GAPS_EVERY_MS = 30000;
  const TOKEN_KEY = 'selfup.token';
  const PALETTE = ['#2458d3', '#e0731f', '#1a9a5b', '#c4302b', '#7a4cc9', '#0f8ba0', '#b8407d', '#6b7280'];
  const IN_FLIGHT = ['approved', 'planned', 'validating', 'rolling_out'];
  const PENDING = ['awaiting_approval', 'deferred'];

  // ---------------------------------------------------------------- DOM helpers

  function build(ns, tag, attrs, children) {
    const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class' && ns) el.setAttribute('class', v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const h = (tag, attrs, ...children) => build(null, tag, attrs, children);
  const s = (tag, attrs, ...children) => build(SVG_NS, tag, attrs, children);

  // ---------------------------------------------------------------- formatting

  const pad = (n) => String(n).padStart(2, '0');
  function fmtTime(ms) {
    if (ms === null || ms === undefined) return '–';
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  }
  function fmtClock(ms, spanMs) {
    const d = new Date(ms);
    if (spanMs > 2 * 86400000) return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}h`;
    if (spanMs < 3600000) return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }
  function fmtAgo(ms, now) {
    if (!ms) return '–';
    const sec = Math.max(0, Math.round((now - ms) / 1000));
    if (sec < 90) return `${sec} s ago`;
    if (sec < 5400) return `${Math.round(sec / 60)} min ago`;
    if (sec < 172800) return `${(sec / 3600).toFixed(1)} h ago`;
    return `${(sec / 86400).toFixed(1)} days ago`;
  }
  function fmtNum(x, digits) {
    if (x === null || x === undefined || !Number.isFinite(x)) return '–';
    const d = digits === undefined ? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : Math.abs(x) >= 1 ? 2 : 3) : digits;
    return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  const fmtPct = (x, d) => (Number.isFinite(x) ? `${fmtNum(x * 100, d === undefined ? 2 : d)}%` : '–');
  const fmtMs = (x) => (Number.isFinite(x) ? `${fmtNum(x)} ms` : '–');
  const fmtP = (p) => (Number.isFinite(p) ? (p < 0.001 ? '< 0.001' : fmtNum(p, 3)) : '–');
  function fmtSigned(x, unit) {
    if (!Number.isFinite(x)) return '–';
    const text = unit === '%' ? fmtNum(x * 100, 2) + ' pts' : fmtNum(x) + (unit ? ' ' + unit : '');
    return (x > 0 ? '+' : x < 0 ? '−' : '') + text.replace('-', '');
  }
  function versionOf(u) {
    return `${u.plugin} ${u.from_version ? u.from_version : '(new)'} → ${u.to_version}`;
  }
  function stateName(u) { return (u.state && u.state.state) || 'unknown'; }
  function stateBadge(state) {
    const name = typeof state === 'string' ? state : state.state;
    const tone = {
      completed: 'good', rolled_back: 'bad', failed: 'bad', awaiting_approval: 'warn', rolling_out: 'info',
      approved: 'violet', planned: 'violet', validating: 'violet', rejected: '', deferred: '', proposed: '',
    }[name] || '';
    let text = name.replace(/_/g, ' ');
    if (name === 'rolling_out' && state.stage !== undefined) text += ` · stage ${state.stage}`;
    return h('span', { class: `badge ${tone}`, 'data-state': name }, text);
  }
  function statusBadge(status) {
    const tone = { pass: 'good', fail: 'bad', pending: 'warn', advance: 'good', roll_back: 'bad', expire: 'bad', continue: 'info' }[status] || '';
    return h('span', { class: `badge ${tone}` }, String(status).replace(/_/g, ' '));
  }
  function empty(text) { return h('p', { class: 'empty' }, text); }
  function table(caption, headers, rows, opts) {
    const o = opts || {};
    return h('div', { class: o.scroll ? 'scroll' : null },
      h('table', { 'data-table': o.name || null },
        caption ? h('caption', {}, caption) : null,
        h('thead', {}, h('tr', {}, headers.map((c) => h('th', { scope: 'col', class: c.startsWith('>') ? 'num' : null }, c.replace(/^>/, ''))))),
        h('tbody', {}, rows.map((r) => h('tr', r.attrs || {}, r.cells.map((c, i) => {
          const num = headers[i] && headers[i].startsWith('>');
          return h('td', { class: num ? 'num' : (c && c.cls) || null }, c && c.node !== undefined ? c.node : c);
        }))))));
  }
  function panel(id, title, count, ...body) {
    return h('section', { class: 'panel', id, 'aria-labelledby': `${id}-h` },
      h('h2', { id: `${id}-h` }, title, count === null || count === undefined ? null : h('span', { class: 'count' }, count)),
      body);
  }

  // ---------------------------------------------------------------- charts

  function niceStep(range, count) {
    const raw = range / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  }
  function ticks(min, max, count) {
    if (!(max > min)) return [min];
    const step = niceStep(max - min, count);
    const out = [];
    for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  // A time-series line chart. opts: {title, series: [{label, color, dash, points: [[t, y]]}],
  // from, to, gapMs, yFormat, yMax}
  function lineChart(opts) {
    const W = 640, H = 220, L = 56, R = 14, T = 10, B = 28;
    const all = opts.series.flatMap((se) => se.points.map((p) => p[1])).filter(Number.isFinite);
    const figure = h('figure', { class: 'chart' }, h('figcaption', {}, opts.title));
    if (!all.length) { figure.appendChild(empty('No calls in this window.')); return figure; }
    const yMaxData = Math.max(...all, opts.yMin || 0);
    const yTicks = ticks(0, yMaxData > 0 ? yMaxData * 1.08 : 1, 4);
    const yMax = yTicks[yTicks.length - 1] || 1;
    const from = opts.from, to = Math.max(opts.to, opts.from + 1);
    const x = (t) => L + ((t - from) / (to - from)) * (W - L - R);
    const y = (v) => T + (1 - v / yMax) * (H - T - B);
    const desc = opts.series.map((se) => {
      const vals = se.points.map((p) => p[1]).filter(Number.isFinite);
      return `${se.label}: ${vals.length} points, last ${opts.yFormat(vals[vals.length - 1])}, max ${opts.yFormat(Math.max(...vals))}`;
    }).join('; ');
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${opts.title}. ${desc}` });
    const grid = s('g', { class: 'grid' });
    const axis = s('g', { class: 'axis' });
    for (const v of yTicks) {
      grid.appendChild(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      axis.appendChild(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, opts.yFormat(v)));
    }
    const n = 6;
    for (let i = 0; i <= n; i++) {
      const t = from + ((to - from) * i) / n;
      axis.appendChild(s('text', { x: x(t), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === n ? 'end' : 'middle' }, fmtClock(t, to - from)));
    }
    axis.appendChild(s('line', { x1: L, x2: W - R, y1: y(0), y2: y(0) }));
    svg.appendChild(grid);
    svg.appendChild(axis);
    for (const se of opts.series) {
      let d = '';
      let prev = null;
      for (const [t, v] of se.points) {
        if (!Number.isFinite(v)) { prev = null; continue; }
        const gap = prev !== null && opts.gapMs && t - prev > opts.gapMs * 1.5;
        d += `${d && !gap ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        prev = t;
      }
      svg.appendChild(s('path', { class: 'series', d, stroke: se.color, 'stroke-dasharray': se.dash || null }));
      if (se.points.length <= 120) {
        for (const [t, v] of se.points) {
          if (!Number.isFinite(v)) continue;
          svg.appendChild(s('circle', { cx: x(t), cy: y(v), r: 2.6, fill: se.color },
            s('title', {}, `${se.label} · ${fmtTime(t)} · ${opts.yFormat(v)}`)));
        }
      }
    }
    figure.appendChild(svg);
    figure.appendChild(legend(opts.series));
    return figure;
  }
  function legend(series) {
    return h('ul', { class: 'legend' }, series.map((se) => h('li', {},
      s('svg', { viewBox: '0 0 22 10', 'aria-hidden': 'true' },
        s('line', { x1: 1, x2: 21, y1: 5, y2: 5, stroke: se.color, 'stroke-width': 3, 'stroke-dasharray': se.dash || null })),
      se.label)));
  }

  // A forest plot: an effect with its interval per row, against zero.
  // rows: [{label, effect, lo, hi, p}]; lowerIsBetter colours what improves green.
  function intervalChart(title, rows, format, lowerIsBetter, emptyText) {
    const figure = h('figure', { class: 'chart' }, h('figcaption', {}, title));
    const usable = rows.filter((r) => Number.isFinite(r.effect));
    if (!usable.length) { figure.appendChild(empty(emptyText || 'Not enough data in both arms yet.')); return figure; }
    const W = 640, L = 150, R = 110, rowH = 30, T = 8, B = 26;
    const H = T + B + rowH * usable.length;
    const bounds = usable.flatMap((r) => [r.effect, r.lo, r.hi]).filter(Number.isFinite);
    const span = Math.max(...bounds.map(Math.abs), 1e-9) * 1.15;
    const xt = ticks(-span, span, 4);
    const lo = Math.min(xt[0], -span), hi = Math.max(xt[xt.length - 1], span);
    const x = (v) => L + ((v - lo) / (hi - lo)) * (W - L - R);
    const svg = s('svg', {
      viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-label': `${title}. ` + usable.map((r) => `${r.label}: ${format(r.effect)}, interval ${format(r.lo)} to ${format(r.hi)}, p ${fmtP(r.p)}`).join('; '),
    });
    const grid = s('g', { class: 'grid' });
    for (const v of xt) {
      grid.appendChild(s('line', { x1: x(v), x2: x(v), y1: T, y2: H - B }));
      svg.appendChild(s('text', { x: x(v), y: H - 8, 'text-anchor': 'middle' }, format(v)));
    }
    svg.appendChild(grid);
    svg.appendChild(s('line', { class: 'zero', x1: x(0), x2: x(0), y1: T, y2: H - B }));
    usable.forEach((r, i) => {
      const cy = T + rowH * i + rowH / 2;
      const excludesZero = Number.isFinite(r.lo) && Number.isFinite(r.hi) && (r.lo > 0 || r.hi < 0);
      const worse = lowerIsBetter ? r.effect > 0 : r.effect < 0;
      const color = excludesZero ? (worse ? 'var(--bad)' : 'var(--good)') : 'var(--neutral)';
      svg.appendChild(s('text', { class: 'label', x: L - 10, y: cy + 4, 'text-anchor': 'end' }, r.label));
      if (Number.isFinite(r.lo) && Number.isFinite(r.hi)) {
        svg.appendChild(s('line', { class: 'ci', x1: x(r.lo), x2: x(r.hi), y1: cy, y2: cy, stroke: color }));
      }
      svg.appendChild(s('circle', { cx: x(r.effect), cy, r: 5, fill: color },
        s('title', {}, `${r.label}: ${format(r.effect)} [${format(r.lo)}, ${format(r.hi)}], p ${fmtP(r.p)}`)));
      svg.appendChild(s('text', { x: W - R + 8, y: cy + 4 }, `p ${fmtP(r.p)}`));
    });
    figure.appendChild(svg);
    return figure;
  }

  // ---------------------------------------------------------------- sections

  function summaryCards(o, pendingCount, period) {
    const calls = o.telemetry.reduce((a, r) => a + r.calls, 0);
    const errors = o.telemetry.reduce((a, r) => a + r.errors, 0);
    const inFlight = o.upgrades.filter((u) => IN_FLIGHT.includes(stateName(u))).length;
    const card = (label, value, attention) => h('div', { class: `card${attention ? ' attention' : ''}` },
      h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    return h('div', { class: 'cards', role: 'group', 'aria-label': 'At a glance' },
      card('Capabilities', fmtInt(o.capabilities.length)),
      card('Rollouts live', fmtInt(o.rollouts.length)),
      card('Upgrades in flight', fmtInt(inFlight)),
      card('Awaiting approval', fmtInt(pendingCount), pendingCount > 0),
      card(`Calls (${period || '24 h'})`, fmtInt(calls)),
      card(`Error rate (${period || '24 h'})`, calls ? fmtPct(errors / calls) : '–'));
  }

  function capabilitiesSection(o) {
    const rollouts = new Map(o.rollouts.map((r) => [r.capability, r]));
    const rows = o.capabilities.map((c) => {
      const r = rollouts.get(c.capability);
      const rollout = r
        ? h('span', {}, statusBadge(r.traffic_percentage > 0 ? 'continue' : 'pending'), ' ',
          `${r.candidate_plugin}@${r.candidate_version} `,
          r.traffic_percentage > 0 ? `serves ${fmtNum(r.traffic_percentage, 0)}% of subjects` : 'shadows (mirrored, answers discarded)',
          h('span', { class: 'muted' }, ` · upgrade #${r.upgrade_id}, stage ${r.stage}`))
        : h('span', { class: 'muted' }, '—');
      return {
        attrs: { 'data-capability': c.capability },
        cells: [h('code', {}, c.capability), c.active ? h('code', {}, c.active) : h('span', { class: 'badge bad' }, 'none'),
          { node: c.providers.map((p) => h('span', { class: 'chip mono' }, p)) }, { node: rollout }],
      };
    });
    return panel('capabilities', 'Capabilities', `${o.capabilities.length}`,
      rows.length ? table(null, ['Capability', 'Active version', 'Installed', 'Rollout'], rows, { name: 'capabilities' })
        : empty('No plugins installed yet: selfup plugin install PACKAGE.'));
  }

  function pendingSection(o, live) {
    const pending = o.upgrades.filter((u) => PENDING.includes(stateName(u)));
    const rows = pending.map((u) => {
      const reasons = ((u.evidence && u.evidence.decision && u.evidence.decision.reasons) || []).slice(0, 3);
      return {
        attrs: { 'data-upgrade-id': u.id, 'data-pending': stateName(u) },
        cells: [`#${u.id}`, h('strong', {}, versionOf(u)), h('code', {}, u.capability), { node: stateBadge(u.state) },
          fmtNum(u.risk, 2), fmtNum(u.opportunity, 2),
          { node: reasons.length ? h('ul', { class: 'plain' }, reasons.map((r) => h('li', {}, r))) : h('span', { class: 'muted' }, (u.state.reason || '—')) },
          fmtAgo(u.state_since_ms, o.now_ms),
          live ? { cls: 'actions', node: [
            h('button', { type: 'button', class: 'approve', 'data-action': 'approve', 'data-upgrade': u.id, 'aria-label': `Approve upgrade ${u.id}: ${versionOf(u)}` }, 'Approve'),
            h('button', { type: 'button', class: 'danger', 'data-action': 'reject', 'data-upgrade': u.id, 'aria-label': `Reject upgrade ${u.id}: ${versionOf(u)}` }, 'Reject'),
          ] } : null].filter((c) => c !== null),
      };
    });
    const headers = ['ID', 'Upgrade', 'Capability', 'State', '>Risk', '>Opportunity', 'Why a human', 'Waiting'];
    if (live) headers.push('Decide');
    return panel('pending', 'Pending approvals', `${pending.length}`,
      rows.length ? table(null, headers, rows, { name: 'pending' }) : empty('Nothing waits for a human.'));
  }

  function stageTrack(stages, current, verdict) {
    return h('ol', { class: 'stages', 'aria-label': 'Rollout stages' }, stages.map((st, i) => {
      const cls = current === null || current === undefined ? 'upcoming' : i < current ? 'done' : i === current ? 'current' : 'upcoming';
      const progress = i === current && verdict && verdict.duration_hours > 0
        ? Math.min(1, verdict.elapsed_hours / verdict.duration_hours) : null;
      return h('li', { class: cls, 'aria-current': i === current ? 'step' : null },
        h('div', { class: 'name' }, st.name),
        h('div', { class: 'muted' }, st.traffic_percentage > 0 ? `${fmtNum(st.traffic_percentage, 0)}% of subjects` : 'shadow', ` · ${fmtNum(st.duration_hours)} h`),
        progress === null ? null : h('progress', { max: 1, value: progress.toFixed(3), 'aria-label': `${st.name}: ${fmtPct(progress, 0)} of its duration` }));
    }));
  }

  function gatesTable(verdict) {
    if (!verdict) return empty('No gate has looked at this upgrade yet.');
    const rows = (verdict.gates || []).map((g) => ({
      cells: [h('code', {}, g.gate), { node: statusBadge(g.status) }, fmtNum(g.value, 4), fmtNum(g.limit, 4),
        fmtNum(g.effect, 4), Number.isFinite(g.ci_low) ? `[${fmtNum(g.ci_low, 4)}, ${fmtNum(g.ci_high, 4)}]` : '–', fmtP(g.p_value),
        h('span', { class: 'muted' }, g.detail)],
    }));
    return h('div', {},
      h('p', { class: 'verdict' }, h('strong', {}, `Stage ${verdict.stage} (${verdict.stage_name}): `), statusBadge(verdict.decision), ' ', verdict.reason,
        h('span', { class: 'muted' }, ` · ${fmtInt(verdict.incumbent_calls)} incumbent, ${fmtInt(verdict.candidate_calls)} candidate calls`,
          Number.isFinite(verdict.mismatch_rate) ? ` · ${fmtPct(verdict.mismatch_rate, 1)} of shadow answers differ` : '')),
      rows.length ? table('Gates at the current look (always-valid tests; not recorded until the stage ends)',
        ['Gate', 'Status', '>Value', '>Limit', '>Effect', 'Interval', '>p', 'Detail'], rows, { name: 'gates' }) : empty('This stage has no gates.'));
  }

  function evidenceDetails(u) {
    const ev = u.evidence || {};
    const stages = Object.keys(ev).filter((k) => /^stage_\d+$/.test(k)).sort();
    const items = [];
    if (ev.decision) {
      items.push(h('li', {}, h('strong', {}, 'Decision: '), `${ev.decision.outcome || ''} `,
        (ev.decision.reasons || []).join('; ')));
    }
    for (const k of stages) {
      const v = ev[k];
      items.push(h('li', {}, h('strong', {}, `${v.stage_name || k}: `), statusBadge(v.decision || 'recorded'), ' ', v.reason || ''));
    }
    return h('details', {}, h('summary', {}, 'Evidence recorded so far'),
      items.length ? h('ul', {}, items) : null,
      h('pre', { class: 'json' }, JSON.stringify(ev, null, 2)));
  }

  function experimentCharts(report) {
    if (!report || !report.stages) return empty('No experiment data yet.');
    const rowsFor = (metric) => report.stages.map((st) => {
      const m = (st.metrics || []).find((x) => x.metric === metric);
      return m ? { label: `stage ${st.stage}`, effect: m.effect, lo: m.ci_low, hi: m.ci_high, p: m.p_value } : { label: `stage ${st.stage}`, effect: NaN };
    });
    const errRows = rowsFor('error_rate');
    if (report.stratified_error_rate) {
      const m = report.stratified_error_rate;
      errRows.push({ label: 'all (stratified)', effect: m.effect, lo: m.ci_low, hi: m.ci_high, p: m.p_value });
    }
    return h('div', { class: 'grid2' },
      intervalChart('Error rate, candidate − incumbent', errRows, (v) => fmtSigned(v, '%'), true,
        'No comparison yet: too few calls, or no errors in either arm.'),
      intervalChart('Latency shift (Hodges–Lehmann), candidate − incumbent', rowsFor('latency_ms'), (v) => fmtSigned(v, 'ms'), true));
  }

  function armsTable(report) {
    const rows = [];
    for (const st of report.stages || []) {
      for (const a of st.arms) {
        rows.push({ cells: [`${st.stage}`, a.arm, fmtInt(a.calls), fmtInt(a.errors), fmtPct(a.error_rate), fmtMs(a.latency_p50_ms), fmtMs(a.latency_p99_ms),
          Number.isFinite(a.mismatch_rate) ? fmtPct(a.mismatch_rate, 1) : '–', a === st.arms[0] ? fmtP(st.srm_p_value) : ''] });
      }
    }
    return rows.length ? table('Arms per stage (fixed-horizon numbers for reading; the gates decide with sequential tests)',
      ['Stage', 'Arm', '>Calls', '>Errors', '>Error rate', '>p50', '>p99', '>Answers differ', '>SRM p'], rows, { name: 'arms' })
      : empty('No calls recorded in the experiment yet.');
  }

  function inFlightSection(o, gates, experiments) {
    const flying = o.upgrades.filter((u) => IN_FLIGHT.includes(stateName(u)));
    const cards = flying.map((u) => {
      const g = gates[u.id];
      const r = o.rollouts.find((x) => x.upgrade_id === u.id);
      return h('article', { class: 'upgrade', 'data-upgrade-id': u.id, 'data-rollout': r ? r.capability : null, 'aria-labelledby': `up-${u.id}` },
        h('header', {}, h('h3', { id: `up-${u.id}` }, `#${u.id} ${versionOf(u)}`), stateBadge(u.state),
          h('span', { class: 'meta' }, h('code', {}, u.capability), ` · risk ${fmtNum(u.risk, 2)} · opportunity ${fmtNum(u.opportunity, 2)} · in this state ${fmtAgo(u.state_since_ms, o.now_ms)}`)),
        g && g.stages ? stageTrack(g.stages, g.stage, g.verdict) : null,
        r ? h('p', { class: 'meta' }, r.traffic_percentage > 0
          ? `Live split: the candidate serves ${fmtNum(r.traffic_percentage, 0)}% of subjects (sticky hash), the incumbent ${r.incumbent ? r.incumbent.join('@') : '(none)'} the rest.`
          : `Shadow: every request is served by ${r.incumbent ? r.incumbent.join('@') : 'the incumbent'} and mirrored to the candidate; its answers are compared and discarded.`,
        ` Stage started ${fmtAgo(r.stage_started_at_ms, o.now_ms)}.`) : h('p', { class: 'meta' }, 'Not serving yet: ', stateName(u) === 'validating' ? 'replaying recorded inputs against both versions.' : 'being planned and installed.'),
        g ? gatesTable(g.verdict) : null,
        experiments[u.id] ? experimentCharts(experiments[u.id]) : null,
        evidenceDetails(u));
    });
    return panel('inflight', 'Upgrades in flight', `${flying.length}`, cards.length ? cards : empty('No upgrade in flight.'));
  }

  function upgradesTable(o) {
    const rows = o.upgrades.map((u) => ({
      attrs: { 'data-upgrade-id': u.id },
      cells: [`#${u.id}`, versionOf(u), h('code', {}, u.capability), { node: stateBadge(u.state) },
        h('span', { class: 'muted' }, u.state.reason || ''), fmtNum(u.risk, 2), fmtNum(u.opportunity, 2), fmtTime(u.updated_at_ms)],
    }));
    return rows.length ? table(null, ['ID', 'Upgrade', 'Capability', 'State', 'Reason', '>Risk', '>Opportunity', 'Updated'], rows, { name: 'upgrades', scroll: true })
      : empty('No upgrades proposed yet: the loop proposes them from the catalog each cycle.');
  }

  function seriesCharts(series, percentile) {
    if (!series || !series.series.length) return empty('No calls in this window.');
    const byCap = new Map();
    for (const v of series.series) {
      if (!byCap.has(v.capability)) byCap.set(v.capability, []);
      byCap.get(v.capability).push(v);
    }
    const key = `${percentile}_ms`;
    const blocks = [];
    for (const [cap, versions] of byCap) {
      const lat = versions.map((v, i) => ({
        label: v.plugin ? `${v.plugin}@${v.version}` : 'unserved', color: PALETTE[i % PALETTE.length], dash: v.plugin ? null : '4 3',
        points: v.points.map((p) => [p.t_ms + series.bucket_ms / 2, p[key]]),
      }));
      const err = versions.map((v, i) => ({
        label: v.plugin ? `${v.plugin}@${v.version}` : 'unserved', color: PALETTE[i % PALETTE.length], dash: v.plugin ? null : '4 3',
        points: v.points.map((p) => [p.t_ms + series.bucket_ms / 2, p.error_rate]),
      }));
      blocks.push(h('div', { class: 'capability-series', 'data-capability': cap },
        h('h3', {}, h('code', {}, cap)),
        h('div', { class: 'grid2' },
          lineChart({ title: `Latency ${percentile} per version`, series: lat, from: series.from_ms, to: series.to_ms, gapMs: series.bucket_ms, yFormat: (v) => `${fmtNum(v)} ms` }),
          lineChart({ title: 'Error rate per version', series: err, from: series.from_ms, to: series.to_ms, gapMs: series.bucket_ms, yFormat: (v) => fmtPct(v, 1), yMin: 0.01 }))));
    }
    return blocks;
  }

  function telemetryTable(o, caption) {
    const rows = o.telemetry.map((r) => ({
      cells: [h('code', {}, r.capability), r.plugin ? `${r.plugin}@${r.version}` : h('span', { class: 'muted' }, 'unserved'),
        fmtInt(r.calls), fmtInt(r.errors), fmtPct(r.error_rate), fmtMs(r.p50_ms), fmtMs(r.p95_ms), fmtMs(r.p99_ms)],
    }));
    return rows.length ? table(caption, ['Capability', 'Version', '>Calls', '>Errors', '>Error rate', '>p50', '>p95', '>p99'], rows, { name: 'telemetry' })
      : empty('No calls recorded.');
  }

  function patternsSection(o) {
    const rows = o.patterns.map((sp) => {
      const p = sp.pattern;
      const sev = String(p.severity || '').toLowerCase();
      return {
        cells: [fmtNum(sp.opportunity_score, 2), { node: h('span', { class: `badge ${sev === 'critical' || sev === 'high' ? 'bad' : sev === 'medium' ? 'warn' : ''}` }, sev) },
          String(p.kind || '').replace(/_/g, ' '), sp.source, h('span', { class: 'mono' }, p.signal || ''), p.description || ''],
      };
    });
    return panel('patterns', 'Patterns', `${o.patterns.length}`,
      rows.length ? table('Latest analysis of each kind, best opportunity first', ['>Score', 'Severity', 'Kind', 'Source', 'Signal', 'Description'], rows, { name: 'patterns', scroll: true })
        : empty('No patterns found yet (each loop cycle analyses runtime and usage; selfup patterns scan adds code).'));
  }

  function gapsSection(gaps) {
    let body;
    if (gaps === undefined) body = empty('Loading gaps…');
    else if (gaps === null) body = empty('Gap analysis is not available here.');
    else if (gaps.error) body = h('p', { class: 'error' }, gaps.error);
    else if (!gaps.gaps.length) body = empty(`No gaps at or above the configured severity${gaps.below_min_severity ? ` (${gaps.below_min_severity} below it)` : ''}.`);
    else {
      body = table(null, ['Severity', 'Gap', '>Demand', '>Subjects', 'Seen', 'Examples', 'Would close it'], gaps.gaps.map((g) => ({
        cells: [{ node: h('span', { class: `badge ${['critical', 'high'].includes(String(g.severity).toLowerCase()) ? 'bad' : 'warn'}` }, String(g.severity).toLowerCase()) },
          h('span', {}, h('strong', {}, g.title), h('br', {}), h('span', { class: 'muted mono' }, g.id)),
          fmtInt(g.demand), fmtInt(g.subjects), `${fmtTime(g.first_seen_ms)} – ${fmtTime(g.last_seen_ms)}`,
          { node: (g.examples || []).slice(0, 2).map((e) => h('div', { class: 'muted' }, `“${e}”`)) },
          { node: (g.candidates || []).length ? g.candidates.map((c) => h('div', {}, h('code', {}, `${c.plugin}@${c.version}`), ' ', h('span', { class: 'muted' }, c.reason))) : h('span', { class: 'muted' }, 'nothing in the catalog') }],
      })), { name: 'gaps' });
    }
    return panel('gaps', 'Capability gaps', gaps && gaps.gaps ? `${gaps.gaps.length}` : null, body);
  }

  function auditSection(o) {
    const rows = o.audit.map((a) => ({
      cells: [fmtTime(a.ts_ms), h('code', {}, a.actor), a.action, h('code', {}, a.target),
        h('span', { class: 'muted mono' }, summarizeDetail(a.detail))],
    }));
    return panel('audit', 'Audit trail', `${o.audit.length} latest`,
      rows.length ? table(null, ['When', 'Who', 'Action', 'Target', 'Detail'], rows, { name: 'audit', scroll: true }) : empty('Nothing has changed yet.'));
  }
  function summarizeDetail(d) {
    if (d === null || d === undefined) return '';
    const text = typeof d === 'string' ? d : JSON.stringify(d);
    return text.length > 180 ? text.slice(0, 177) + '…' : text;
  }

  // ---------------------------------------------------------------- the live page

  const live = {
    overview: null, series: null, gaps: undefined, gates: {}, experiments: {},
    hours: 1, percentile: 'p95', selected: null, lastOk: 0, lastError: null, gapsAt: 0, rendered: {}, deciding: null,
  };

  async function getJson(path) {
    const r = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    const body = await r.json().catch(() => null);
    if (!r.ok) {
      const message = body && body.error ? `${body.error.kind}: ${body.error.message}` : `HTTP ${r.status}`;
      const e = new Error(message);
      e.status = r.status;
      throw e;
    }
    return body;
  }

  async function refresh() {
    try {
      const buckets = live.hours <= 6 ? 60 : 96;
      const [overview, series] = await Promise.all([
        getJson('/v1/dashboard'),
        getJson(`/v1/dashboard/series?hours=${live.hours}&buckets=${buckets}`),
      ]);
      live.overview = overview;
      live.series = series;
      const flying = overview.upgrades.filter((u) => IN_FLIGHT.includes(stateName(u)));
      const withExperiment = overview.upgrades.filter((u) => hasExperiment(u));
      if (live.selected === null && withExperiment.length) live.selected = withExperiment[0].id;
      const wanted = new Set([...flying.map((u) => u.id), live.selected].filter((x) => x !== null));
      const gates = {}, experiments = {};
      await Promise.all([...wanted].map(async (id) => {
        const isFlying = flying.some((u) => u.id === id);
        const [g, e] = await Promise.all([
          isFlying ? getJson(`/v1/dashboard/upgrades/${id}/gates`).catch(() => null) : null,
          getJson(`/v1/experiments/${id}`).catch(() => null),
        ]);
        if (g) gates[id] = g;
        if (e) experiments[id] = e;
      }));
      live.gates = gates;
      live.experiments = experiments;
      if (Date.now() - live.gapsAt > GAPS_EVERY_MS) {
        live.gapsAt = Date.now();
        getJson('/v1/dashboard/gaps').then((g) => { live.gaps = g; render(); })
          .catch((e) => { live.gaps = e.status === 503 || e.status === 409 ? null : { error: e.message }; render(); });
      }
      live.lastOk = Date.now();
      live.lastError = null;
    } catch (e) {
      live.lastError = e.message || String(e);
    }
    render();
  }

  function hasExperiment(u) {
    const st = stateName(u);
    return st === 'rolling_out' || st === 'completed' || st === 'rolled_back' || Object.keys(u.evidence || {}).some((k) => /^stage_\d+$/.test(k));
  }

  function topBar(title, statusNode, liveMode) {
    const links = [['pending', 'Approvals'], ['inflight', 'In flight'], ['experiments', 'Experiments'], ['capabilities', 'Capabilities'],
      ['latency', 'Latency & errors'], ['patterns', 'Patterns'], ['gaps', 'Gaps'], ['audit', 'Audit']];
    const shown = liveMode ? links : [['timeline', 'Timeline'], ['upgrades', 'Upgrades'], ...links.filter(([id]) => !['pending', 'inflight'].includes(id))];
    return h('header', { class: 'top' },
      h('h1', {}, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆ '), title),
      h('nav', { 'aria-label': 'Sections' }, shown.map(([id, label]) => h('a', { href: `#${id}` }, label))),
      statusNode);
  }

  function liveStatus() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const ok = live.lastError === null && live.lastOk > 0;
    return h('div', { class: 'status', role: 'status' },
      h('span', { id: 'conn' }, h('span', { class: `dot ${ok ? 'ok' : live.lastError ? 'err' : ''}`, 'aria-hidden': 'true' }),
        ok ? `live · updated ${new Date(live.lastOk).toLocaleTimeString('en-GB')}` : live.lastError ? `cannot reach the gateway: ${live.lastError}` : 'connecting…'),
      token ? h('button', { type: 'button', class: 'secondary', id: 'forget-token', onclick: () => { sessionStorage.removeItem(TOKEN_KEY); render(true); } }, 'Forget token')
        : h('span', { class: 'muted' }, 'no token entered'));
  }

  // Replaces a section only when what it shows changed (keeps focus and scroll).
  function slot(root, id, key, make) {
    let el = document.getElementById(`slot-${id}`);
    if (!el) {
      el = h('div', { id: `slot-${id}` });
      root.appendChild(el);
    }
    if (live.rendered[id] === key) return;
    live.rendered[id] = key;
    el.replaceChildren(...[make()].flat().filter(Boolean));
  }

  function render(force) {
    if (force) live.rendered = {};
    const app = document.getElementById('app');
    if (!app) return;
    const bar = document.querySelector('header.top');
    const newBar = topBar('selfup', liveStatus(), true);
    if (bar) bar.replaceWith(newBar); else document.body.insertBefore(newBar, app);
    const o = live.overview;
    if (!o) {
      if (live.lastError) app.replaceChildren(h('p', { class: 'error' }, `Cannot load the dashboard: ${live.lastError}`));
      return;
    }
    if (app.querySelector('p.empty, p.error') && !document.getElementById('slot-cards')) app.replaceChildren();
    const pending = o.upgrades.filter((u) => PENDING.includes(stateName(u)));
    const key = (x) => JSON.stringify(x);
    const noNow = { ...o, now_ms: Math.floor(o.now_ms / 30000) };
    slot(app, 'cards', key([o.capabilities, o.rollouts, o.upgrades.map((u) => [u.id, u.state]), o.telemetry]), () => summaryCards(o, pending.length));
    slot(app, 'pending', key([pending, noNow.now_ms]), () => pendingSection(o, true));
    slot(app, 'inflight', key([o.upgrades.filter((u) => IN_FLIGHT.includes(stateName(u))), o.rollouts, live.gates, live.experiments, noNow.now_ms]),
      () => inFlightSection(o, live.gates, live.experiments));
    slot(app, 'experiments', key([live.selected, live.experiments[live.selected], o.upgrades.filter(hasExperiment).map((u) => [u.id, u.state])]), () => experimentsSection(o));
    slot(app, 'capabilities', key([o.capabilities, o.rollouts]), () => capabilitiesSection(o));
    slot(app, 'latency', key([live.series, live.percentile, live.hours]), () => latencySection());
    slot(app, 'telemetry', key(o.telemetry), () => panel('telemetry', 'Calls per version', 'last 24 h', telemetryTable(o)));
    slot(app, 'upgrades', key(o.upgrades), () => panel('upgrades', 'All upgrades', `${o.upgrades.length}`, upgradesTable(o)));
    slot(app, 'patterns', key(o.patterns), () => patternsSection(o));
    slot(app, 'gaps', key(live.gaps === undefined ? 'u' : live.gaps), () => gapsSection(live.gaps));
    slot(app, 'audit', key(o.audit), () => auditSection(o));
  }

  function experimentsSection(o) {
    const candidates = o.upgrades.filter(hasExperiment);
    if (!candidates.length) return panel('experiments', 'Experiments', '0', empty('No upgrade has reached a rollout yet.'));
    const report = live.experiments[live.selected];
    const select = h('select', { id: 'experiment-select', onchange: (ev) => { live.selected = Number(ev.target.value); refresh(); } },
      candidates.map((u) => h('option', { value: u.id, selected: u.id === live.selected }, `#${u.id} ${versionOf(u)} (${stateName(u).replace(/_/g, ' ')})`)));
    return panel('experiments', 'Experiments', `${candidates.length}`,
      h('div', { class: 'controls' }, h('label', { for: 'experiment-select' }, 'Upgrade'), select),
      report ? [h('p', { class: 'meta' }, `${report.title} on `, h('code', {}, report.capability), ` — decision so far: ${report.decision}`),
        experimentCharts(report), armsTable(report)] : empty('Loading the experiment…'));
  }

  function latencySection() {
    const windowSelect = h('select', { id: 'window-select', onchange: (ev) => { live.hours = Number(ev.target.value); refresh(); } },
      [[5 / 60, 'last 5 minutes'], [0.25, 'last 15 minutes'], [1, 'last hour'], [6, 'last 6 hours'], [24, 'last 24 hours'], [168, 'last 7 days']].map(([v, l]) => h('option', { value: v, selected: v === live.hours }, l)));
    const radios = h('fieldset', { class: 'inline' }, h('legend', {}, 'Percentile'),
      ['p50', 'p95', 'p99'].map((p) => h('label', {}, h('input', { type: 'radio', name: 'percentile', value: p, checked: p === live.percentile,
        onchange: () => { live.percentile = p; render(); } }), ` ${p}`)));
    return panel('latency', 'Latency and errors over time', null,
      h('div', { class: 'controls' }, h('label', { for: 'window-select' }, 'Window'), windowSelect, radios),
      seriesCharts(live.series, live.percentile));
  }

  // The approve / reject dialog.
  function openDecision(action, id) {
    const o = live.overview;
    const u = o && o.upgrades.find((x) => x.id === id);
    if (!u) return;
    const dialog = document.getElementById('decide');
    live.deciding = { action, id };
    document.getElementById('decide-title').textContent = `${action === 'approve' ? 'Approve' : 'Reject'} upgrade #${id}`;
    document.getElementById('decide-what').textContent = `${versionOf(u)} for ${u.capability} (risk ${fmtNum(u.risk, 2)}, opportunity ${fmtNum(u.opportunity, 2)}).`;
    const token = sessionStorage.getItem(TOKEN_KEY) || '';
    const tokenInput = document.getElementById('decide-token');
    tokenInput.value = token;
    document.getElementById('decide-reason').value = '';
    document.getElementById('decide-error').textContent = '';
    const submit = document.getElementById('decide-submit');
    submit.textContent = action === 'approve' ? 'Approve' : 'Reject';
    submit.className = action === 'approve' ? 'approve' : 'danger';
    submit.disabled = false;
    if (typeof dialog.showModal === 'function') dialog.showModal(); else dialog.setAttribute('open', '');
    (token ? document.getElementById('decide-reason') : tokenInput).focus();
  }

  async function submitDecision(ev) {
    ev.preventDefault();
    const d = live.deciding;
    if (!d) return;
    const token = document.getElementById('decide-token').value.trim();
    const reason = document.getElementById('decide-reason').value.trim();
    const error = document.getElementById('decide-error');
    if (!token) { error.textContent = 'Enter an API token (selfup token create).'; document.getElementById('decide-token').focus(); return; }
    if (!reason) { error.textContent = 'Give a reason: it is kept in the audit trail.'; document.getElementById('decide-reason').focus(); return; }
    const submit = document.getElementById('decide-submit');
    submit.disabled = true;
    error.textContent = '';
    try {
      const r = await fetch(`/v1/upgrades/${d.id}/${d.action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ reason, by: 'dashboard' }),
      });
      const body = await r.json().catch(() => null);
      if (r.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        throw new Error('The token is not valid (unknown or revoked).');
      }
      if (!r.ok) throw new Error(body && body.error ? body.error.message : `HTTP ${r.status}`);
      sessionStorage.setItem(TOKEN_KEY, token);
      closeDecision();
      toast(`Upgrade #${d.id} ${d.action === 'approve' ? 'approved' : 'rejected'}.`);
      await refresh();
    } catch (e) {
      error.textContent = e.message || String(e);
      submit.disabled = false;
    }
  }
  function closeDecision() {
    live.deciding = null;
    const dialog = document.getElementById('decide');
    if (dialog.open) { if (typeof dialog.close === 'function') dialog.close(); else dialog.removeAttribute('open'); }
  }
  function toast(text) {
    const t = h('div', { class: 'toast', role: 'status' }, text);
    document.body.appendChild(t);
    setTimeout(() => t.remove(), 5000);
  }

  function startLive() {
    document.getElementById('decide-form').addEventListener('submit', submitDecision);
    document.getElementById('decide-cancel').addEventListener('click', closeDecision);
    document.getElementById('app').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (b) openDecision(b.getAttribute('data-action'), Number(b.getAttribute('data-upgrade')));
    });
    refresh();
    setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
  }

  // ---------------------------------------------------------------- the static report

  function renderReport(data) {
    const o = data.overview;
    const app = document.getElementById('app');
    document.body.insertBefore(topBar(data.title || 'selfup report', h('div', { class: 'status' }, data.subtitle || ''), false), app);
    const t0 = data.started_ms || (data.timeline[0] && data.timeline[0].ts_ms) || 0;
    const when = (ms) => {
      const hours = (ms - t0) / 3600000;
      const day = Math.floor(hours / 24) + 1;
      return `day ${day} ${pad(Math.round(hours - (day - 1) * 24))}:00`;
    };
    const timelineRows = data.timeline.map((c) => ({
      cells: [when(c.ts_ms), c.upgrade_id ? `#${c.upgrade_id}` : '', c.text],
    }));
    const experiments = (data.experiments || []).filter((r) => r.stages && r.stages.length);
    app.replaceChildren(
      summaryCards(o, o.upgrades.filter((u) => PENDING.includes(stateName(u))).length, 'whole run'),
      panel('timeline', 'Timeline', `${data.timeline.length} events`,
        timelineRows.length ? table(null, ['When', 'Upgrade', 'What happened'], timelineRows, { name: 'timeline' }) : empty('Nothing happened.')),
      panel('upgrades', 'Final state of the upgrades', `${o.upgrades.length}`, upgradesTable(o)),
      panel('experiments', 'Experiments', `${experiments.length}`,
        experiments.length ? experiments.map((r) => h('article', { class: 'upgrade', 'data-upgrade-id': r.upgrade_id },
          h('header', {}, h('h3', {}, `#${r.upgrade_id} ${r.title}`), h('span', { class: 'meta' }, h('code', {}, r.capability), ` — ${r.decision}`)),
          experimentCharts(r), armsTable(r))) : empty('No upgrade reached a rollout.')),
      panel('latency', 'Latency and errors over the run', null, seriesCharts(data.series, 'p95')),
      capabilitiesSection(o),
      panel('telemetry', 'Calls per version', 'whole run', telemetryTable(o)),
      patternsSection(o),
      gapsSection(data.gaps === undefined ? null : data.gaps),
      auditSection(o));
  }

  function boot() {
    const embedded = document.getElementById('report-data');
    if (embedded) {
      try { renderReport(JSON.parse(embedded.textContent)); } catch (e) {
        document.getElementById('app').replaceChildren(h('p', { class: 'error' }, `Cannot render the report: ${e.message}`));
      }
    } else {
      startLive();
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})();
